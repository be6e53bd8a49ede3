/**
 * Fast CPU FCA stage (median reference, windowed rank matching, σs blur, σp weights, overlap-add)
 * on worker threads sharing one WebAssembly memory. Results equal the readable specification
 * (`../median_reference.ts`, `../rank_matching.ts`) bit for bit, whatever the thread count.
 * @module
 */
import { validateParams } from "../params.ts";
import { tileCounts } from "../median_reference.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../types.ts";
import { type Layout, makeLayout, planRegions, type Regions } from "./layout.ts";
import { type Job, ThreadState } from "./tasks.ts";
import { startModuleWorker } from "../../base/web_worker.ts";
import { SerialQueue } from "../../base/serial_queue.ts";
import {
  compileKernel,
  instantiateKernel,
  type Kernel,
  MAX_PAGES,
  newSharedMemory,
} from "./kernel.ts";

/** Options of {@link CpuFca.create}. */
export interface CpuFcaOptions {
  /** Threads; 1 runs on the calling thread without workers. Default hardwareConcurrency, at most 8. */
  threads?: number;
  /** Rank kernel: "wasm" (default) or "js", its plain TypeScript twin (for comparison). */
  kernel?: "wasm" | "js";
}

/** Most rows of windows per rank task. */
const RANK_ROWS = 8;

type Reply = { ok: true } | { error: string };

/** The fast CPU FCA engine: create once, call many times, dispose at the end. */
export class CpuFca {
  /** Number of threads used. */
  readonly threads: number;
  #workers: Worker[];
  #memory: WebAssembly.Memory;
  #kernel: Kernel;
  #local: ThreadState;
  /** Calls share the memory, so they run one after another. */
  #queue = new SerialQueue();

  private constructor(
    threads: number,
    workers: Worker[],
    memory: WebAssembly.Memory,
    kernel: Kernel,
    wasm: boolean,
  ) {
    this.threads = threads;
    this.#workers = workers;
    this.#memory = memory;
    this.#kernel = kernel;
    this.#local = new ThreadState(0, wasm ? kernel : null);
  }

  /** Compile the kernel and start the workers (none for one thread). */
  static async create(opts: CpuFcaOptions = {}): Promise<CpuFca> {
    const threads = opts.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new Error(`fca/fast: threads must be an integer >= 1, got ${threads}`);
    }
    const wasm = (opts.kernel ?? "wasm") === "wasm";
    const module = compileKernel();
    const memory = newSharedMemory(1 << 24);
    const kernel = instantiateKernel(module, memory);
    const workers: Worker[] = [];
    if (threads > 1) {
      const url = new URL("./worker.ts", import.meta.url);
      for (let index = 0; index < threads; index++) workers.push(startModuleWorker(url));
      try {
        await Promise.all(
          workers.map((w, index) => ask(w, { init: { module, memory, index, wasm } })),
        );
      } catch (e) {
        for (const w of workers) w.terminate();
        throw e;
      }
    }
    return new CpuFca(threads, workers, memory, kernel, wasm);
  }

  /** Median reference `[C, T·T]` of `features` (convention 2 in docs/conventions.md). */
  async medianReference(features: FeatureMap, patch: number): Promise<Float32Array> {
    const params = { patch, sigmaP: 1, sigmaS: 0 };
    validateParams(params);
    return await this.#queue.run(async () => {
      const [L, R] = this.#load(features, patch);
      await this.#phase(this.#job("prep", L, R, params, true));
      return new Float32Array(this.#memory.buffer, R.ref, L.channels * L.area).slice();
    });
  }

  /** FCA map (H×W) of min-max scaled `features`; the median reference is computed unless given. */
  async fcaMap(
    features: FeatureMap,
    params: FcaParams,
    reference?: Float32Array,
  ): Promise<ScalarMap> {
    validateParams(params);
    return await this.#queue.run(async () => {
      const [L, R] = this.#load(features, params.patch);
      if (reference !== undefined) {
        if (reference.length !== L.channels * L.area) {
          throw new Error(
            `fca/fast: reference has ${reference.length} values, expected ${L.channels}x${L.area}`,
          );
        }
        new Float32Array(this.#memory.buffer, R.ref, reference.length).set(reference);
      }
      await this.#phase(this.#job("prep", L, R, params, reference === undefined));
      await this.#phase(this.#job("rank", L, R, params, false));
      await this.#phase(this.#job("fold", L, R, params, false));
      const out = new Float32Array(this.#memory.buffer, R.out, L.height * L.width).slice();
      return { height: L.height, width: L.width, data: out };
    });
  }

  /** Terminate the workers; the engine must not be used afterwards. */
  dispose(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }

  #job(phase: Job["phase"], L: Layout, R: Regions, params: FcaParams, median: boolean): Job {
    const tiles = median ? tileCounts(L.height, L.width, L.patch) : [0, 0] as [number, number];
    return { phase, layout: L, regions: R, params, median, tiles };
  }

  /** Validate sizes, grow the memory if needed and copy the features in. */
  #load(f: FeatureMap, patch: number): [Layout, Regions] {
    const { channels: C, height: H, width: W } = f;
    if (!(C >= 1 && f.data.length === C * H * W)) {
      throw new Error(
        `fca/fast: feature data has ${f.data.length} values, expected ${C}x${H}x${W}`,
      );
    }
    if (H <= patch >> 1 || W <= patch >> 1) {
      throw new Error(`fca/fast: feature map ${H}x${W} is too small for a ${patch}x${patch} patch`);
    }
    const L = makeLayout(C, H, W, patch);
    const tiles = Math.floor(H / patch) * Math.floor(W / patch);
    const R = planRegions(
      L,
      this.threads,
      rankRows(H, this.threads),
      this.#kernel.scratchBytes(patch, L.padW),
      this.#kernel.medianScratchBytes(patch, tiles),
    );
    const have = this.#memory.buffer.byteLength;
    if (R.bytes > have) {
      const pages = Math.ceil(R.bytes / 65536);
      if (pages > MAX_PAGES) {
        throw new Error(`fca/fast: feature map ${C}x${H}x${W} needs too much memory`);
      }
      this.#memory.grow(pages - have / 65536);
    }
    new Float32Array(this.#memory.buffer, R.raw, C * H * W).set(f.data);
    return [L, R];
  }

  /** Run one job on every thread and wait until all its tasks are done. */
  async #phase(job: Job): Promise<void> {
    const buffer = this.#memory.buffer;
    Atomics.store(new Int32Array(buffer, job.regions.counter, 1), 0, 0);
    if (this.#workers.length === 0) return this.#local.run(buffer, job);
    await Promise.all(this.#workers.map((w) => ask(w, { job })));
  }
}

/**
 * Rows of windows per rank task: more rows build each channel's sorted window fewer times (the
 * window snakes down through them), fewer rows balance the threads better.
 */
function rankRows(H: number, threads: number): number {
  return Math.max(1, Math.min(RANK_ROWS, Math.floor(H / (4 * threads))));
}

/** Post `msg` to `w` and wait for its reply; a reported error becomes a thrown one. */
function ask(w: Worker, msg: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<Reply>) => {
      if ("error" in e.data) reject(new Error(`fca/fast worker: ${e.data.error}`));
      else resolve();
    };
    w.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`fca/fast worker: ${e.message}`));
    };
    w.postMessage(msg);
  });
}

/** Default CPU thread count: one per core, at most 8. */
export function defaultThreads(): number {
  return Math.min(8, Math.max(1, navigator.hardwareConcurrency || 1));
}
