/**
 * A pool of worker threads for the image I/O around detection: decoding inputs and encoding and
 * writing outputs (heatmap PNG, overlay PNG, `.npy`). At 1024² these codecs cost more CPU than a
 * GPU detection, so a stream of images needs them off the main thread and in parallel.
 * With `size` 0 the same work runs inline on the calling thread (single images, tests).
 * @module
 */
import type { RgbImage } from "./types.ts";
import { readImage } from "./decode.ts";
import { startModuleWorker } from "../base/web_worker.ts";
import {
  type OutputKind,
  outputKinds,
  type OutputPaths,
  type RenderedMap,
  writeOutputs,
} from "./outputs.ts";

/** What a worker needs to write one detection's outputs. */
export interface WriteJob {
  detection: RenderedMap;
  image: RgbImage;
  paths: OutputPaths;
  /** The outputs to write (default: all). */
  kinds?: readonly OutputKind[];
}

/**
 * A finished I/O request and its milliseconds: a decode's time in its worker; a write's time
 * until every output is on disk.
 */
export interface Timed<T> {
  value: T;
  ms: number;
}

interface Pending {
  resolve(reply: Record<string, unknown>): void;
  reject(err: Error): void;
  worker: number;
}

/** Decoding and writing, wherever they run (an {@link IoPool}, or a stand-in in tests). */
export interface ImageIo {
  /** Worker threads doing the work (0: inline); sizes the stream's read-ahead. */
  readonly size: number;
  /** Read and decode an image file. */
  decode(path: string): Promise<Timed<RgbImage>>;
  /** Encode and write a detection's outputs; may take ownership of the job's arrays. */
  write(job: WriteJob): Promise<Timed<OutputPaths>>;
}

/**
 * Default pool size: the cores that a detector keeping `busyThreads` threads busy leaves free, at
 * most 8 (0 on a CPU-bound detector that uses every core: then I/O runs in turn with detection).
 */
export function defaultIoWorkers(busyThreads = 1): number {
  return Math.min(8, Math.max(0, (navigator.hardwareConcurrency || 1) - busyThreads));
}

/** Decode and write through worker threads; requests go to the worker with the fewest pending. */
export class IoPool implements ImageIo {
  #workers: Worker[];
  #load: number[];
  #pending = new Map<number, Pending>();
  #nextId = 0;
  #broken: Error | null = null;

  /** Number of worker threads (0 when the work runs inline). */
  readonly size: number;

  private constructor(workers: Worker[]) {
    this.#workers = workers;
    this.size = workers.length;
    this.#load = workers.map(() => 0);
    workers.forEach((w) => {
      w.onmessage = (e: MessageEvent<Record<string, unknown> & { id: number }>) => {
        const p = this.#pending.get(e.data.id);
        if (!p) return;
        this.#pending.delete(e.data.id);
        this.#load[p.worker]--;
        if (typeof e.data.error === "string") p.reject(new Error(e.data.error));
        else p.resolve(e.data);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#broken = new Error(`io worker crashed: ${e.message}`);
        this.dispose();
      };
    });
  }

  /** Start `size` workers (0: no workers, everything inline). */
  static create(size: number = defaultIoWorkers()): IoPool {
    if (!Number.isInteger(size) || size < 0) {
      throw new Error(`io workers must be an integer >= 0, got ${size}`);
    }
    const url = new URL("./io_worker.ts", import.meta.url);
    return new IoPool(Array.from({ length: size }, () => startModuleWorker(url)));
  }

  /** Read and decode an image file (errors as from `readImage`). */
  async decode(path: string): Promise<Timed<RgbImage>> {
    if (this.size === 0) return await timed(() => readImage(path));
    const reply = await this.#ask({ decode: path });
    return { value: reply.image as RgbImage, ms: reply.ms as number };
  }

  /**
   * Encode and write the outputs atomically; with two workers or more the overlay, the heatmap
   * and the `.npy` are encoded in parallel. The job's arrays are transferred to the workers: the
   * caller must not use `image.data`, or the detection's `map.data`, `heatmap` and `overlay`,
   * afterwards.
   */
  async write(job: WriteJob): Promise<Timed<OutputPaths>> {
    if (this.size === 0) {
      return await timed(() => writeOutputs(job.detection, job.image, job.paths, job.kinds));
    }
    const t0 = performance.now();
    await Promise.all(
      splitWrite(job, this.size).map((part) => this.#ask({ write: part }, transferables(part))),
    );
    return { value: job.paths, ms: performance.now() - t0 };
  }

  /** Stop the workers; pending requests fail. */
  dispose(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
    this.#broken ??= new Error("io pool disposed");
    for (const p of this.#pending.values()) p.reject(this.#broken);
    this.#pending.clear();
  }

  #ask(message: object, transfer: Transferable[] = []): Promise<Record<string, unknown>> {
    if (this.#broken) return Promise.reject(this.#broken);
    const worker = this.#load.indexOf(Math.min(...this.#load));
    const id = this.#nextId++;
    this.#load[worker]++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, worker });
      this.#workers[worker].postMessage({ id, ...message }, transfer);
    });
  }
}

/**
 * Split a write into up to three jobs that each carry only what their outputs need: the overlay
 * the rendered overlay (or else the image and the heatmap), the heatmap the heatmap (a copy when
 * the overlay job takes it), the `.npy` the map.
 */
function splitWrite(job: WriteJob, workers: number): WriteJob[] {
  const kinds = job.kinds ?? outputKinds(job.paths);
  if (workers < 2 || kinds.length < 2) return [job];
  const groups: OutputKind[][] = workers >= 3 ? kinds.map((k) => [k]) : [
    [kinds[0]],
    kinds.slice(1),
  ];
  const { map, heatmap, overlay, mask } = job.detection;
  let maskTaken = false;
  const noImage = { width: job.image.width, height: job.image.height, data: new Float32Array(0) };
  const noMap = { ...map, data: new Float32Array(0) };
  let heatmapTaken = false;
  return groups.map((group) => {
    const blend = group.includes("overlay") && overlay === undefined;
    const needsHeat = blend || group.includes("heatmap");
    const heat = !needsHeat ? new Uint8Array(0) : heatmapTaken ? heatmap.slice() : heatmap;
    heatmapTaken ||= heat === heatmap;
    const needsMask = mask && (group.includes("overlay") || group.includes("mask"));
    const ownMask = needsMask ? (maskTaken ? mask.slice() : mask) : undefined;
    maskTaken ||= ownMask === mask;
    const detection: RenderedMap = {
      map: group.includes("npy") ? map : noMap,
      heatmap: heat,
      ...(overlay && group.includes("overlay") ? { overlay } : {}),
      ...(ownMask ? { mask: ownMask } : {}),
    };
    return { detection, image: blend ? job.image : noImage, paths: job.paths, kinds: group };
  });
}

/** The ArrayBuffers of a job, to move rather than copy into the worker. */
function transferables(job: WriteJob): ArrayBuffer[] {
  const { map, heatmap, overlay, mask } = job.detection;
  const buffers = new Set<ArrayBuffer>();
  const none = new Uint8Array(0);
  for (const a of [job.image.data, map.data, heatmap, overlay ?? none, mask ?? none]) {
    if (a.buffer instanceof ArrayBuffer && a.byteLength > 0) buffers.add(a.buffer);
  }
  return [...buffers];
}

async function timed<T>(fn: () => Promise<T>): Promise<Timed<T>> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}
