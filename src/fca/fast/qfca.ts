/**
 * Fast CPU QFCA (`--stats qfca` on the cpu backend): the wasm kernel of `qfca_kernel.as` on
 * worker threads that share one WebAssembly memory holding the features. Tasks of 16 channels
 * each add to their own float64 map; the maps are summed in task order (so the result does not
 * depend on the thread count), scaled by 1/(C·B) and blurred by σs as the specification
 * (`../qfca.ts`) does.
 * @module
 */
import { startModuleWorker } from "../../base/web_worker.ts";
import { SerialQueue } from "../../base/serial_queue.ts";
import { gaussian1d, validateParams } from "../params.ts";
import { blurMap, checkBins } from "../qfca.ts";
import { tileCounts } from "../median_reference.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../types.ts";
import { MAX_PAGES, newSharedMemory } from "./kernel.ts";
import {
  compileQfcaKernel,
  instantiateQfcaKernel,
  type QfcaJob,
  type QfcaKernel,
  qfcaTaskCount,
  runQfcaJob,
} from "./qfca_kernel.ts";
import { defaultThreads } from "./mod.ts";

type Reply = { ok: true } | { error: string };

/** The fast CPU QFCA engine: create once, call many times, dispose at the end. */
export class CpuQfca {
  #workers: Worker[];
  #ready: Promise<unknown>;
  #memory: WebAssembly.Memory;
  #kernel: QfcaKernel;
  /** Calls share the memory, so they run one after another. */
  #queue = new SerialQueue();

  private constructor(
    readonly threads: number,
    workers: Worker[],
    ready: Promise<unknown>,
    memory: WebAssembly.Memory,
    kernel: QfcaKernel,
  ) {
    this.#workers = workers;
    this.#ready = ready;
    this.#memory = memory;
    this.#kernel = kernel;
  }

  /** Start `threads` workers (none for one thread: the kernel then runs on the calling thread). */
  static create(opts: { threads?: number } = {}): CpuQfca {
    const threads = opts.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new Error(`fca/fast: threads must be an integer >= 1, got ${threads}`);
    }
    const module = compileQfcaKernel();
    const memory = newSharedMemory(1 << 20);
    const kernel = instantiateQfcaKernel(module, memory);
    const workers: Worker[] = [];
    let ready: Promise<unknown> = Promise.resolve();
    if (threads > 1) {
      const url = new URL("./qfca_worker.ts", import.meta.url);
      for (let i = 0; i < threads; i++) workers.push(startModuleWorker(url));
      ready = Promise.all(workers.map((w, index) => ask(w, { init: { module, memory, index } })));
      ready.catch(() => {}); // reported by the first call
    }
    return new CpuQfca(threads, workers, ready, memory, kernel);
  }

  /**
   * QFCA map (H×W) of min-max scaled `features` with `bins` bins, against `reference` (`[C, T·T]`
   * bins) or the quantized median reference.
   */
  async qfcaMap(
    features: FeatureMap,
    params: FcaParams,
    bins: number,
    reference?: Uint8Array,
  ): Promise<ScalarMap> {
    validateParams(params);
    checkBins(bins);
    const { channels: C, height: H, width: W } = features;
    const T = params.patch, A = T * T, n = H * W;
    if (!(C >= 1 && features.data.length === C * H * W)) {
      throw new Error(
        `qfca: feature data has ${features.data.length} values, expected ${C}x${H}x${W}`,
      );
    }
    if (H <= T >> 1 || W <= T >> 1) {
      throw new Error(`qfca: feature map ${H}x${W} is too small for a ${T}x${T} patch`);
    }
    if (reference) {
      if (reference.length !== C * A) {
        throw new Error(`qfca: reference has ${reference.length} bins, expected ${C}x${A}`);
      }
    } else tileCounts(H, W, T);
    return await this.#queue.run(async () => {
      await this.#ready;
      const tasks = qfcaTaskCount(C);
      let at = 64; // keep address 0 (no reference) unused
      const take = (bytes: number) => {
        const o = at;
        at += Math.ceil(bytes / 64) * 64;
        return o;
      };
      const feat = take(C * n * 4), g = take(T * 4), refs = reference ? take(C * A) : 0;
      const acc = take(tasks * n * 8), counter = take(4);
      const scratchStride = Math.ceil(this.#kernel.scratchBytes(H, W, T, bins) / 64) * 64;
      const scratch = take(scratchStride * Math.max(1, this.#workers.length));
      const have = this.#memory.buffer.byteLength;
      if (at > have) {
        const pages = Math.ceil(at / 65536);
        if (pages > MAX_PAGES) throw new Error(`qfca: feature map ${C}x${H}x${W} is too large`);
        this.#memory.grow(pages - have / 65536);
      }
      const buffer = this.#memory.buffer;
      new Float32Array(buffer, feat, C * n).set(features.data);
      new Float32Array(buffer, g, T).set(gaussian1d(T, params.sigmaP));
      if (reference) new Uint8Array(buffer, refs, C * A).set(reference);
      const sums = new Float64Array(buffer, acc, tasks * n);
      sums.fill(0);
      new Int32Array(buffer, counter, 1)[0] = 0;
      const job: QfcaJob = {
        channels: C,
        height: H,
        width: W,
        patch: T,
        bins,
        feat,
        g,
        refs,
        acc,
        scratch,
        scratchStride,
        counter,
      };
      if (this.#workers.length === 0) runQfcaJob(this.#kernel, 0, buffer, job);
      else await Promise.all(this.#workers.map((w) => ask(w, { job })));
      const out = new Float32Array(n), scale = 1 / (C * bins);
      for (let x = 0; x < n; x++) {
        let s = 0;
        for (let t = 0; t < tasks; t++) s += sums[t * n + x];
        out[x] = s * scale;
      }
      const map = { height: H, width: W, data: out };
      return params.sigmaS > 0 ? blurMap(map, params.sigmaS) : map;
    });
  }

  /** Terminate the workers. */
  dispose(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }
}

/** Post `msg` to `w` and wait for its reply; a reported error becomes a thrown one. */
function ask(w: Worker, msg: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<Reply>) => {
      if ("error" in e.data) reject(new Error(`qfca worker: ${e.data.error}`));
      else resolve();
    };
    w.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`qfca worker: ${e.message}`));
    };
    w.postMessage(msg);
  });
}
