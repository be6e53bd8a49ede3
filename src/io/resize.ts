/**
 * Image resizing in the manner of PIL's `Image.resize(..., BILINEAR)`: a separable triangle filter
 * with half-pixel centres whose support widens with the downscale factor (antialiasing), used by
 * `--size N`.
 * @module
 */

import type { RgbImage } from "./types.ts";

/** Sparse 1-D resampling weights: output `i` reads `count[i]` inputs starting at `start[i]`. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  /** `weights[i * stride + k]` multiplies input `start[i] + k`. */
  weights: Float64Array;
  stride: number;
}

/** Triangle (bilinear) kernel. */
function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

/** PIL `precompute_coeffs` for the bilinear filter (support 1), normalised to sum 1. */
function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support 1.0, stretched when downscaling
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  const inv = 1 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    let sum = 0;
    const n = Math.min(hi - lo, stride);
    for (let k = 0; k < n; k++) {
      const w = triangle((k + lo - center + 0.5) * inv);
      weights[i * stride + k] = w;
      sum += w;
    }
    if (sum > 0) { for (let k = 0; k < n; k++) weights[i * stride + k] /= sum; }
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, stride };
}

/**
 * Resize planar RGB to `width` x `height` with PIL-style antialiased bilinear filtering
 * (horizontal pass, then vertical), computed in floating point. Returns a copy when the size is
 * unchanged.
 * @throws Error when the target size is not a positive integer.
 */
export function resizeImage(img: RgbImage, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`resize: target size ${width}x${height} must be positive integers`);
  }
  const { width: w0, height: h0, data } = img;
  if (w0 === width && h0 === height) return { width, height, data: data.slice() };
  const tx = taps(w0, width);
  const ty = taps(h0, height);
  const mid = new Float64Array(h0 * width);
  const out = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    const src = c * w0 * h0;
    for (let y = 0; y < h0; y++) {
      const row = src + y * w0;
      for (let x = 0; x < width; x++) {
        const s = row + tx.start[x];
        const wb = x * tx.stride;
        let acc = 0;
        for (let k = 0; k < tx.count[x]; k++) acc += data[s + k] * tx.weights[wb + k];
        mid[y * width + x] = acc;
      }
    }
    const dst = c * width * height;
    for (let y = 0; y < height; y++) {
      const s0 = ty.start[y];
      const wb = y * ty.stride;
      const n = ty.count[y];
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += mid[(s0 + k) * width + x] * ty.weights[wb + k];
        out[dst + y * width + x] = acc;
      }
    }
  }
  return { width, height, data: out };
}
