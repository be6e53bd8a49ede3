/**
 * Fast CPU QFCA (`--stats qfca` on the cpu backend): the channels are split over worker threads
 * that run {@link qfcaChannels} on one shared copy of the features; their sums are added, scaled
 * by 1/(C·B) and blurred by σs as the specification (`../qfca.ts`) does.
 * @module
 */
import { startModuleWorker } from "../../base/web_worker.ts";
import { SerialQueue } from "../../base/serial_queue.ts";
import { gaussian1d, validateParams } from "../params.ts";
import { blurMap, checkBins } from "../qfca.ts";
import { tileCounts } from "../median_reference.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../types.ts";
import { qfcaChannels, type QfcaTask } from "./qfca_kernel.ts";
import { defaultThreads } from "./mod.ts";

type Reply = { acc: Float64Array } | { error: string };

/** The fast CPU QFCA engine: create once, call many times, dispose at the end. */
export class CpuQfca {
  #workers: Worker[];
  #queue = new SerialQueue();

  private constructor(readonly threads: number, workers: Worker[]) {
    this.#workers = workers;
  }

  /** Start `threads` workers (none for one thread: the kernel then runs on the calling thread). */
  static create(opts: { threads?: number } = {}): CpuQfca {
    const threads = opts.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new Error(`fca/fast: threads must be an integer >= 1, got ${threads}`);
    }
    const workers: Worker[] = [];
    if (threads > 1) {
      const url = new URL("./qfca_worker.ts", import.meta.url);
      for (let i = 0; i < threads; i++) workers.push(startModuleWorker(url));
    }
    return new CpuQfca(threads, workers);
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
    const T = params.patch, A = T * T;
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
      const g = gaussian1d(T, params.sigmaP);
      const task = (data: Float32Array, ref: Uint8Array | undefined, c0: number, c1: number) =>
        ({
          data,
          channels: C,
          height: H,
          width: W,
          patch: T,
          bins,
          g,
          c0,
          c1,
          reference: ref,
        }) as QfcaTask;
      let acc: Float64Array;
      if (this.#workers.length === 0) {
        acc = qfcaChannels(task(features.data, reference, 0, C));
      } else {
        const shared = new Float32Array(new SharedArrayBuffer(features.data.byteLength));
        shared.set(features.data);
        let ref: Uint8Array | undefined;
        if (reference) {
          ref = new Uint8Array(new SharedArrayBuffer(reference.byteLength));
          ref.set(reference);
        }
        const k = Math.min(this.#workers.length, C);
        const parts = await Promise.all(
          this.#workers.slice(0, k).map((w, i) =>
            ask(w, task(shared, ref, Math.floor((i * C) / k), Math.floor(((i + 1) * C) / k)))
          ),
        );
        acc = parts[0];
        for (const p of parts.slice(1)) for (let x = 0; x < acc.length; x++) acc[x] += p[x];
      }
      const out = new Float32Array(H * W);
      const scale = 1 / (C * bins);
      for (let x = 0; x < out.length; x++) out[x] = acc[x] * scale;
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

function ask(w: Worker, task: QfcaTask): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<Reply>) => {
      if ("error" in e.data) reject(new Error(`qfca worker: ${e.data.error}`));
      else resolve(e.data.acc);
    };
    w.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`qfca worker: ${e.message}`));
    };
    w.postMessage(task);
  });
}
