/**
 * Overlap-add of the weighted window maps (convention 7 in docs/conventions.md) written as a gather, so every
 * output pixel sums its contributions in the reference's order (windows in raster order) whatever
 * the thread split.
 * @module
 */
import type { Layout } from "./layout.ts";

/** Output rows [y0, y1): out[y·W + x] = Σ over windows (i, j) in raster order of their value at (y, x). */
export function foldRows(
  wmap: Float64Array,
  out: Float32Array,
  L: Layout,
  y0: number,
  y1: number,
): void {
  const { height: H, width: W, patch: T, area } = L;
  const half = T >> 1;
  for (let y = y0; y < y1; y++) {
    const i0 = Math.max(0, y - half), i1 = Math.min(H - 1, y + half);
    for (let x = 0; x < W; x++) {
      const j0 = Math.max(0, x - half), j1 = Math.min(W - 1, x + half);
      let sum = 0;
      for (let i = i0; i <= i1; i++) {
        const rowK = (y - i + half) * T + x + half;
        for (let j = j0; j <= j1; j++) sum += wmap[(i * W + j) * area + rowK - j];
      }
      out[y * W + x] = sum;
    }
  }
}
