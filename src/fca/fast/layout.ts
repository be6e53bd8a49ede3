/**
 * Geometry shared by the fast CPU FCA stages: padded plane sizes, reflect tables and the
 * shared-memory buffers that the main thread and the workers both see.
 * @module
 */
import { reflectIndex } from "../params.ts";

/** Sizes of one FCA problem: C channels of H×W, patch T, reflect-padded to PH×PW. */
export interface Layout {
  channels: number;
  height: number;
  width: number;
  patch: number;
  /** Padded height H + 2·(T>>1). */
  padH: number;
  /** Padded width W + 2·(T>>1). */
  padW: number;
  /** T·T, the number of values in a window. */
  area: number;
}

/** Build the layout of a C×H×W map with patch T. */
export function makeLayout(channels: number, height: number, width: number, patch: number): Layout {
  const half = patch >> 1;
  return {
    channels,
    height,
    width,
    patch,
    padH: height + 2 * half,
    padW: width + 2 * half,
    area: patch * patch,
  };
}

/** Source index of every padded index along an axis of length n padded by `half` (reflect). */
export function reflectTable(n: number, half: number): Int32Array {
  const t = new Int32Array(n + 2 * half);
  for (let i = 0; i < t.length; i++) t[i] = reflectIndex(i - half, n);
  return t;
}

/** Byte offsets of every buffer of one call inside the engine's shared memory. */
export interface Regions {
  raw: number;
  padded: number;
  mins: number;
  ref: number;
  wmap: number;
  out: number;
  counter: number;
  /** Rows of windows per rank task (the window snakes through them channel by channel). */
  rankRows: number;
  /** Start of thread 0's scratch (per-window sums, then the kernel's own scratch). */
  scratch: number;
  /** Bytes of scratch per thread. */
  scratchStride: number;
  /** Total bytes needed. */
  bytes: number;
}

/**
 * Lay out the buffers of layout `L` for `threads` threads and rank tasks of `rankRows` rows. Each
 * thread's scratch holds, in the rank phase, the per-window sums of one task and `kernelScratch`
 * bytes, and in the prep phase `medianScratch` bytes.
 */
export function planRegions(
  L: Layout,
  threads: number,
  rankRows: number,
  kernelScratch: number,
  medianScratch: number,
): Regions {
  const { channels: C, height: H, width: W, padH: PH, padW: PW, area } = L;
  let at = 64; // keep address 0 unused
  const take = (bytes: number) => {
    const o = at;
    at += Math.ceil(bytes / 64) * 64; // cache-line aligned
    return o;
  };
  const raw = take(C * H * W * 4), padded = take(C * PH * PW * 4), mins = take(C * 4);
  const ref = take(C * area * 4), wmap = take(H * W * area * 8), out = take(H * W * 4);
  const counter = take(4);
  const sums = rankRows * W * area * 8;
  const scratchStride = Math.ceil(Math.max(sums + kernelScratch, medianScratch) / 64) * 64;
  const scratch = take(scratchStride * threads);
  return {
    raw,
    padded,
    mins,
    ref,
    wmap,
    out,
    counter,
    rankRows,
    scratch,
    scratchStride,
    bytes: at,
  };
}

/** Typed views of one call's buffers (`counter` is the work counter threads draw tasks from). */
export interface Buffers {
  raw: Float32Array;
  padded: Float32Array;
  /** `padded` viewed as Int32 (float bits). */
  paddedBits: Int32Array;
  mins: Float32Array;
  ref: Float32Array;
  wmap: Float64Array;
  out: Float32Array;
  counter: Int32Array;
}

/** Views of the regions `R` of layout `L` in `buffer`. */
export function viewBuffers(buffer: ArrayBufferLike, L: Layout, R: Regions): Buffers {
  const { channels: C, height: H, width: W, padH: PH, padW: PW, area } = L;
  return {
    raw: new Float32Array(buffer, R.raw, C * H * W),
    padded: new Float32Array(buffer, R.padded, C * PH * PW),
    paddedBits: new Int32Array(buffer, R.padded, C * PH * PW),
    mins: new Float32Array(buffer, R.mins, C),
    ref: new Float32Array(buffer, R.ref, C * area),
    wmap: new Float64Array(buffer, R.wmap, H * W * area),
    out: new Float32Array(buffer, R.out, H * W),
    counter: new Int32Array(buffer, R.counter, 1),
  };
}
