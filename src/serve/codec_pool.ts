/**
 * The threads of the server's image work (`codec.ts`): decoding uploads and encoding outputs off
 * the main thread, least busy thread first; with size 0 the same work runs inline.
 * @module
 */
import type { RgbImage } from "../io/types.ts";
import { startModuleWorker } from "../base/web_worker.ts";
import { decodeUpload, type EncodeJob, encodeOutputs, UploadError } from "./codec.ts";

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
