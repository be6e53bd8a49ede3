/**
 * The three phases of a fast CPU FCA call, cut into tasks that any number of threads draw from a
 * shared counter: `prep` (padding, minima, median reference; 8 channels a task), `rank`
 * (`regions.rankRows` rows of windows a task) and `fold` (8 output rows a task). Every task writes
 * only its own outputs, so the result does not depend on which thread ran it.
 * @module
 */
import type { FcaParams } from "../types.ts";
import { type Buffers, type Layout, reflectTable, type Regions, viewBuffers } from "./layout.ts";
import { medianChannel, MedianScratch, padChannel } from "./prep.ts";
import { finishRow, rankRow, RowScratch } from "./rank_row.ts";
import { foldRows } from "./fold.ts";
import type { Kernel } from "./kernel.ts";

/** Channels per prep task. */
const PREP_CHANNELS = 8;
/** Output rows per fold task. */
const FOLD_ROWS = 8;
/** Channels per wasm call: V8 tiers a wasm function up between calls, so keep calls short. */
const KERNEL_CHANNELS = 32;

/** One phase of one call, as posted to every thread. */
export interface Job {
  phase: "prep" | "rank" | "fold";
  layout: Layout;
  regions: Regions;
  params: FcaParams;
  /** prep only: also compute the median reference (else `ref` is given). */
  median: boolean;
  /** prep with median: complete tiles along y and x. */
  tiles: [number, number];
}

/** Number of tasks of a job. */
export function taskCount(job: Job): number {
  const L = job.layout;
  if (job.phase === "prep") return Math.ceil(L.channels / PREP_CHANNELS);
  if (job.phase === "rank") return Math.ceil(L.height / job.regions.rankRows);
  return Math.ceil(L.height / FOLD_ROWS);
}

/** One thread's kernel and scratch, reused across calls while the sizes stay the same. */
export class ThreadState {
  #row: RowScratch | null = null;
  #median: MedianScratch | null = null;

  /** Thread `index` (its scratch slot); `kernel` null runs the TypeScript twin of the kernel. */
  constructor(readonly index: number, readonly kernel: Kernel | null) {}

  /** Draw tasks of `job` from the shared counter in `buffer` until none are left. */
  run(buffer: ArrayBufferLike, job: Job): void {
    const bufs = viewBuffers(buffer, job.layout, job.regions);
    const total = taskCount(job);
    const L = job.layout, R = job.regions;
    const accAt = R.scratch + this.index * R.scratchStride;
    const acc = new Float64Array(buffer, accAt, R.rankRows * L.width * L.area);
    for (;;) {
      const t = Atomics.add(bufs.counter, 0, 1);
      if (t >= total) return;
      if (job.phase === "prep") this.#prep(bufs, job, t, accAt);
      else if (job.phase === "rank") this.#rank(bufs, job, t, acc, accAt + acc.byteLength);
      else foldRows(bufs.wmap, bufs.out, L, t * FOLD_ROWS, Math.min(L.height, (t + 1) * FOLD_ROWS));
    }
  }

  #prep(bufs: Buffers, job: Job, t: number, scratchAt: number): void {
    const L = job.layout, R = job.regions, half = L.patch >> 1, k = this.kernel;
    const { padH: PH, padW: PW, patch: T, area } = L;
    const rowSrc = reflectTable(L.height, half), colSrc = reflectTable(L.width, half);
    const [ty, tx] = job.tiles;
    const c1 = Math.min(L.channels, (t + 1) * PREP_CHANNELS);
    for (let c = t * PREP_CHANNELS; c < c1; c++) {
      padChannel(bufs.raw, bufs.padded, bufs.mins, L, rowSrc, colSrc, c);
      if (job.median && k !== null) {
        const tile0 = R.padded + (c * PH * PW + half * PW + half) * 4;
        k.median(tile0, PW, T, ty, tx, bufs.mins[c], R.ref + c * area * 4, scratchAt);
      } else if (job.median) {
        const s = this.#medianScratch(ty * tx, L.area);
        medianChannel(bufs.padded, L, ty, tx, bufs.mins[c], bufs.ref, c, s);
      }
    }
  }

  /** Rank task t: rows [t·rows, …) of windows, all channels, then their weighted maps. */
  #rank(bufs: Buffers, job: Job, t: number, acc: Float64Array, scratchAt: number): void {
    const L = job.layout, R = job.regions, s = this.#rowScratch(L, job.params);
    const { channels: C, width: W, patch: T, padH: PH, padW: PW, area } = L;
    const i0 = t * R.rankRows, rows = Math.min(R.rankRows, L.height - i0), rowLen = W * area;
    acc.fill(0, 0, rows * rowLen);
    const k = this.kernel;
    for (let r = 0; r < rows; r++) {
      if (k === null) {
        const a = acc.subarray(r * rowLen, (r + 1) * rowLen);
        rankRow(bufs.padded, bufs.paddedBits, bufs.mins, bufs.ref, a, i0 + r, 0, C, s);
      }
    }
    if (k !== null) {
      for (let c0 = 0; c0 < C; c0 += KERNEL_CHANNELS) {
        // Band, plane, channels, minima, reference, accumulator, scratch and the geometry.
        const head = [
          R.padded + (c0 * PH * PW + i0 * PW) * 4,
          PH * PW * 4,
          Math.min(KERNEL_CHANNELS, C - c0),
          R.mins + c0 * 4,
          R.ref + c0 * area * 4,
          acc.byteOffset,
          scratchAt,
          W,
          T,
          PW,
        ] as const;
        // With minima masks (T ≤ 31) the band kernel visits each value once; the same sums.
        if (s.useMasks) k.rankBand(...head, rows, rowLen * 8);
        else k.rank(...head, 0, rows, rowLen * 8);
      }
    }
    for (let r = 0; r < rows; r++) {
      finishRow(acc.subarray(r * rowLen, (r + 1) * rowLen), bufs.wmap, i0 + r, s);
    }
  }

  #medianScratch(tiles: number, area: number): MedianScratch {
    const m = this.#median;
    if (m && m.column.length >= tiles && m.sorted.length >= tiles * area) return m;
    return (this.#median = new MedianScratch(tiles, area));
  }

  #rowScratch(L: Layout, p: FcaParams): RowScratch {
    const r = this.#row;
    if (
      r && r.L.channels === L.channels && r.L.height === L.height && r.L.width === L.width &&
      r.L.patch === L.patch && r.params.sigmaP === p.sigmaP && r.params.sigmaS === p.sigmaS
    ) return r;
    return (this.#row = new RowScratch(L, p));
  }
}
