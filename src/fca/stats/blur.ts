/**
 * Whole-map Gaussian blur as torchvision `gaussian_blur` computes it (used by the reference
 * code's `op_utils.blur`): a normalised float32 k-tap Gaussian, 2-D kernel = outer product,
 * reflect padding by k//2 (edge not repeated). Accumulation is in float64.
 * @module
 */
import { gaussian1d, reflectIndex } from "../params.ts";

/**
 * Blur `planes` stacked H×W planes of `data` (plane-major) with a `size`-tap Gaussian of `sigma`
 * and reflect padding; returns a new float64 array of the same layout. `size` must be odd.
 */
export function gaussianBlurPlanes(
  data: ArrayLike<number>,
  planes: number,
  height: number,
  width: number,
  size: number,
  sigma: number,
): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) {
    throw new Error(`stats/blur.ts: blur kernel size must be an odd integer >= 1, got ${size}`);
  }
  const g = gaussian1d(size, sigma), r = size >> 1;
  const n = height * width;
  // Separable passes with precomputed reflected indices; equal to the 2-D outer-product kernel.
  const rowIdx = new Int32Array(width * size), colIdx = new Int32Array(height * size);
  for (let x = 0; x < width; x++) {
    for (let b = 0; b < size; b++) rowIdx[x * size + b] = reflectIndex(x + b - r, width);
  }
  for (let y = 0; y < height; y++) {
    for (let a = 0; a < size; a++) colIdx[y * size + a] = reflectIndex(y + a - r, height);
  }
  const out = new Float64Array(planes * n);
  const tmp = new Float64Array(n);
  for (let p = 0; p < planes; p++) {
    const base = p * n;
    for (let y = 0; y < height; y++) {
      const row = base + y * width;
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let b = 0; b < size; b++) s += g[b] * data[row + rowIdx[x * size + b]];
        tmp[y * width + x] = s;
      }
    }
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let a = 0; a < size; a++) s += g[a] * tmp[colIdx[y * size + a] * width + x];
        out[base + y * width + x] = s;
      }
    }
  }
  return out;
}
