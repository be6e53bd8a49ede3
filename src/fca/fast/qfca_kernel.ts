/**
 * The fast CPU QFCA kernel (`qfca_kernel.as`, built into `qfca_kernel_wasm.ts`; 128-bit SIMD) and
 * the job that threads run with it: the channels are cut into tasks of {@link QFCA_TASK_CHANNELS}
 * drawn from a shared counter, and each task adds its channels' scores to its own float64 map, so
 * the caller's sum over the tasks (in task order) does not depend on which thread ran which task.
 *
 * Per channel the kernel quantizes, builds the quantized median reference by counting (unless
 * given), slides window histograms into per-bin averaged errors and filters them with the
 * separable σp weights: O(B + bins present·T/4 + T/4) per pixel (docs/qfca.md). It equals
 * `qfcaMap` of `../qfca.ts` (before its 1/(C·B) scale and σs blur) up to float32 rounding.
 * @module
 */
import { QFCA_KERNEL_WASM } from "./qfca_kernel_wasm.ts";

/** Channels per task (a task's map is H·W float64s). */
export const QFCA_TASK_CHANNELS = 16;

/** Exports of the QFCA kernel module. */
export interface QfcaKernel {
  /** Scratch bytes one thread needs for an H×W map, patch T and B bins. */
  scratchBytes(H: number, W: number, T: number, B: number): number;
  /** See `qfca_kernel.as`: adds the scores of nch channels at `feat` to the f64 map at `acc`. */
  channels(
    feat: number,
    nch: number,
    H: number,
    W: number,
    T: number,
    B: number,
    g: number,
    refs: number,
    acc: number,
    scr: number,
  ): void;
}

/** Compile the kernel module (synchronous: the module is a few KiB). */
export function compileQfcaKernel(): WebAssembly.Module {
  return new WebAssembly.Module(Uint8Array.fromBase64(QFCA_KERNEL_WASM));
}

/** Instantiate the kernel over `memory`. */
export function instantiateQfcaKernel(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
): QfcaKernel {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as QfcaKernel;
}

/** One QFCA call as posted to every thread: byte offsets into the shared memory and sizes. */
export interface QfcaJob {
  channels: number;
  height: number;
  width: number;
  patch: number;
  bins: number;
  /** Features `[C, H, W]` f32. */
  feat: number;
  /** The σp Gaussian, T f32 taps. */
  g: number;
  /** Reference bins `[C, T·T]` u8, or 0 for each channel's quantized median reference. */
  refs: number;
  /** Task t's f64 map (H·W) at acc + t·H·W·8; zeroed by the caller. */
  acc: number;
  /** Thread i's scratch at scratch + i·scratchStride. */
  scratch: number;
  scratchStride: number;
  /** An i32 task counter, 0 at the start. */
  counter: number;
}

/** Number of tasks of a job with `channels` channels. */
export function qfcaTaskCount(channels: number): number {
  return Math.ceil(channels / QFCA_TASK_CHANNELS);
}

/** Draw tasks of `job` from its counter until none are left (thread `index`'s scratch). */
export function runQfcaJob(
  kernel: QfcaKernel,
  index: number,
  buffer: ArrayBufferLike,
  job: QfcaJob,
): void {
  const { channels: C, height: H, width: W, patch: T, bins: B } = job;
  const counter = new Int32Array(buffer, job.counter, 1), tasks = qfcaTaskCount(C);
  const n = H * W, A = T * T, scr = job.scratch + index * job.scratchStride;
  for (;;) {
    const t = Atomics.add(counter, 0, 1);
    if (t >= tasks) return;
    const c0 = t * QFCA_TASK_CHANNELS, nch = Math.min(QFCA_TASK_CHANNELS, C - c0);
    kernel.channels(
      job.feat + c0 * n * 4,
      nch,
      H,
      W,
      T,
      B,
      job.g,
      job.refs === 0 ? 0 : job.refs + c0 * A,
      job.acc + t * n * 8,
      scr,
    );
  }
}
