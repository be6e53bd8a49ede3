/**
 * The server's image work outside detection: decoding an uploaded image (size checked from its
 * header before any pixel is decoded) and encoding the requested outputs as base64. Runs inline
 * or on the threads of a {@link CodecPool}.
 * @module
 */
import { decodeImage, probeImageSize } from "../io/decode.ts";
import { encodePng } from "../io/encode.ts";
import { encodeOutput, type RenderedMap } from "../io/outputs.ts";
import type { RgbImage } from "../io/types.ts";
import { startModuleWorker } from "../base/web_worker.ts";

/** An upload that cannot be used: the HTTP status and one-line message to answer with. */
export class UploadError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Outputs a request may include. */
export const INCLUDE_KINDS = ["heatmap", "overlay", "mask", "map"] as const;
/** One of them. */
export type IncludeKind = typeof INCLUDE_KINDS[number];

/** What encoding needs: the rendered map, the image, the decision mask (for `mask`). */
export interface EncodeJob {
  detection: RenderedMap;
  image: RgbImage;
  mask?: Uint8Array;
  kinds: IncludeKind[];
}

/** Decode an upload named "image"; 413 past `maxPixels`, 400 when it is not a usable image. */
export function decodeUpload(bytes: Uint8Array, maxPixels: number): RgbImage {
  try {
    const { width, height } = probeImageSize(bytes, "image");
    if (width * height > maxPixels) {
      throw new UploadError(
        413,
        `image: ${width}x${height} pixels, more than the server's limit of ${maxPixels}`,
      );
    }
    return decodeImage(bytes, "image");
  } catch (err) {
    if (err instanceof UploadError) throw err;
    throw new UploadError(400, String(err instanceof Error ? err.message : err).split("\n")[0]);
  }
}

/** The requested outputs, base64: PNGs as the CLI writes them, the map as a float32 `.npy`. */
export function encodeOutputs(job: EncodeJob): Record<string, string> {
  const out: Record<string, string> = {};
  const { detection, image } = job;
  for (const kind of job.kinds) {
    const bytes = kind === "mask"
      ? encodePng(image.width, image.height, job.mask!, 1)
      : encodeOutput(kind === "map" ? "npy" : kind, detection, image);
    out[kind] = base64(bytes);
  }
  return out;
}

/** Base64 without intermediate strings (`Uint8Array.prototype.toBase64`, ES2026). */
function base64(bytes: Uint8Array): string {
  return (bytes as Uint8Array & { toBase64(): string }).toBase64();
}

/** Decoding and encoding on worker threads (or inline with size 0), least busy thread first. */
export class CodecPool {
  #workers: Worker[];
  #load: number[];
  #pending = new Map<number, { resolve(v: any): void; reject(e: Error): void; w: number }>();
  #next = 0;

  private constructor(size: number) {
    this.#workers = Array.from(
      { length: size },
      () => startModuleWorker(new URL("./codec_worker.ts", import.meta.url)),
    );
    this.#load = this.#workers.map(() => 0);
    this.#workers.forEach((w) => {
      w.onmessage = (e: MessageEvent<{ id: number; [k: string]: unknown }>) => {
        const p = this.#pending.get(e.data.id);
        if (!p) return;
        this.#pending.delete(e.data.id);
        this.#load[p.w]--;
        if (typeof e.data.error === "string") {
          p.reject(new UploadError(e.data.status as number, e.data.error));
        } else p.resolve(e.data.value);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        for (const p of this.#pending.values()) p.reject(new Error(`codec worker: ${e.message}`));
        this.#pending.clear();
      };
    });
  }

  /** A pool of `size` threads (0: inline). */
  static create(size: number): CodecPool {
    return new CodecPool(size);
  }

  /** Threads in the pool. */
  get size(): number {
    return this.#workers.length;
  }

  /** {@link decodeUpload} on a thread (the bytes are moved there). */
  decode(bytes: Uint8Array, maxPixels: number): Promise<RgbImage> {
    if (this.size === 0) return Promise.resolve().then(() => decodeUpload(bytes, maxPixels));
    const copy = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes
      : bytes.slice();
    return this.#ask({ decode: copy, maxPixels }, [copy.buffer as ArrayBuffer]);
  }

  /** {@link encodeOutputs} on a thread (the arrays are copied there). */
  encode(job: EncodeJob): Promise<Record<string, string>> {
    if (this.size === 0 || job.kinds.length === 0) {
      return Promise.resolve().then(() => encodeOutputs(job));
    }
    return this.#ask({ encode: job }, []);
  }

  /** Stop the threads. */
  dispose(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
    for (const p of this.#pending.values()) p.reject(new Error("codec pool disposed"));
    this.#pending.clear();
  }

  #ask<T>(message: object, transfer: Transferable[]): Promise<T> {
    const w = this.#load.indexOf(Math.min(...this.#load));
    const id = this.#next++;
    this.#load[w]++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, w });
      this.#workers[w].postMessage({ id, ...message }, transfer);
    });
  }
}
