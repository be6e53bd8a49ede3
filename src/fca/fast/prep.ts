/**
 * Per-channel preparation for the fast CPU FCA: reflect padding, channel minima and the median
 * reference (convention 2 in docs/conventions.md), one channel at a time so that threads can share channels.
 * @module
 */
import type { Layout } from "./layout.ts";

/**
 * Copy channel c of `raw` (C×H×W) into `padded` (C×PH×PW) with reflect padding, turning −0 into +0
 * (−0 and +0 tie in the reference's comparisons, so they must share one bit pattern here), and
 * store the channel's minimum in `mins[c]`.
 */
export function padChannel(
  raw: Float32Array,
  padded: Float32Array,
  mins: Float32Array,
  L: Layout,
  rowSrc: Int32Array,
  colSrc: Int32Array,
  c: number,
): void {
  const { height: H, width: W, padH: PH, padW: PW } = L;
  const src = c * H * W, dst = c * PH * PW, half = (PW - W) >> 1;
  let mn = Infinity;
  for (let y = 0; y < H; y++) {
    const s = src + y * W, d = dst + (y + half) * PW + half;
    for (let x = 0; x < W; x++) {
      const v = raw[s + x] + 0; // −0 + 0 = +0
      padded[d + x] = v;
      if (v < mn) mn = v;
    }
  }
  for (let y = 0; y < PH; y++) {
    const d = dst + y * PW, from = dst + (rowSrc[y] + half) * PW;
    if (y < half || y >= H + half) padded.copyWithin(d + half, from + half, from + half + W);
    for (let x = 0; x < half; x++) {
      padded[d + x] = padded[d + colSrc[x] + half];
      padded[d + PW - 1 - x] = padded[d + colSrc[PW - 1 - x] + half];
    }
  }
  mins[c] = mn;
}

/** Reusable scratch space of {@link medianChannel}. */
export class MedianScratch {
  /** Non-minimum values of every tile, sorted ascending, at [tile·T² ...]. */
  readonly sorted: Float32Array;
  /** How many values of each tile equal the channel minimum. */
  readonly minCount: Int32Array;
  /** One rank's values over the tiles. */
  readonly column: Float32Array;
  /** Scratch for the largest possible tile count and area. */
  constructor(tiles: number, area: number) {
    this.sorted = new Float32Array(tiles * area);
    this.minCount = new Int32Array(tiles);
    this.column = new Float32Array(tiles);
  }
}

/**
 * Median reference of channel c into `ref[c·T² ...]`: the lower median over the ty×tx complete
 * tiles of each rank's value. Values equal to the channel minimum `mn` come first in every sorted
 * tile, so only the others are sorted, and a rank held by the minimum in more than half of the
 * tiles needs no selection at all.
 */
export function medianChannel(
  padded: Float32Array,
  L: Layout,
  ty: number,
  tx: number,
  mn: number,
  ref: Float32Array,
  c: number,
  s: MedianScratch,
): void {
  const { patch: T, area, padW: PW, padH: PH } = L;
  const half = T >> 1, tiles = ty * tx, mid = (tiles - 1) >> 1;
  const { sorted, minCount, column } = s;
  const base = c * PH * PW + half * PW + half;
  for (let t = 0; t < tiles; t++) {
    const y0 = Math.floor(t / tx) * T, x0 = (t % tx) * T, o = t * area;
    let n = 0;
    for (let dy = 0; dy < T; dy++) {
      const row = base + (y0 + dy) * PW + x0;
      for (let dx = 0; dx < T; dx++) {
        const v = padded[row + dx];
        if (v !== mn) sorted[o + n++] = v;
      }
    }
    if (n > 32) sorted.subarray(o, o + n).sort(); // native sort for dense tiles
    else {
      for (let k = o + 1; k < o + n; k++) { // insertion sort: most tiles are sparse
        const v = sorted[k];
        let j = k;
        for (; j > o && sorted[j - 1] > v; j--) sorted[j] = sorted[j - 1];
        sorted[j] = v;
      }
    }
    minCount[t] = area - n;
  }
  for (let r = 0; r < area; r++) {
    let m0 = 0, n = 0;
    for (let t = 0; t < tiles; t++) {
      const z = minCount[t];
      if (z > r) m0++;
      else column[n++] = sorted[t * area + r - z];
    }
    ref[c * area + r] = m0 > mid ? mn : select(column, n, mid - m0);
  }
}

/** The k-th smallest of a[0..n) (Hoare quickselect; reorders a). */
export function select(a: Float32Array, n: number, k: number): number {
  let lo = 0, hi = n - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
