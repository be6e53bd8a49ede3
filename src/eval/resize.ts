/**
 * `skimage.transform.resize(image, shape)` with its defaults (order 1, mode 'reflect',
 * anti-aliasing when shrinking), which the MVTec AD evaluation applies to maps and masks:
 * a Gaussian pre-filter with σ = max(0, (in/out − 1)/2) per axis (scipy `gaussian_filter`,
 * truncate 4, mirrored borders, one axis after the other in the array's precision), then
 * half-pixel-centre bilinear sampling at (i + 0.5)·in/out − 0.5 with mirrored borders
 * (scipy `zoom(grid_mode=True)`), in float64.
 * @module
 */
import { reflectIndex } from "../fca/params.ts";

/** A row-major plane of float32 or float64 values. */
export interface Plane<T extends Float32Array | Float64Array> {
  width: number;
  height: number;
  data: T;
}

/**
 * Resize like skimage. Float32 input stays float32 (values rounded after each step, as numpy
 * does for a float32 array); float64 stays float64.
 */
export function skimageResize<T extends Float32Array | Float64Array>(
  src: Plane<T>,
  outHeight: number,
  outWidth: number,
): Plane<T> {
  const { width: w, height: h } = src;
  if (!(outHeight >= 1 && outWidth >= 1)) {
    throw new Error(`resize: invalid output size ${outWidth}x${outHeight}`);
  }
  const f32 = src.data instanceof Float32Array;
  const round = f32 ? Math.fround : (v: number) => v;
  let data: Float32Array | Float64Array = src.data;
  if (outHeight < h || outWidth < w) {
    data = gaussianAxis(data, w, h, Math.max(0, (h / outHeight - 1) / 2), true, round);
    data = gaussianAxis(data, w, h, Math.max(0, (w / outWidth - 1) / 2), false, round);
  }
  const ys = taps(h, outHeight), xs = taps(w, outWidth);
  const out = f32 ? new Float32Array(outHeight * outWidth) : new Float64Array(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    const r0 = ys.i0[y] * w, r1 = ys.i1[y] * w, wy = ys.t[y];
    for (let x = 0; x < outWidth; x++) {
      const a = xs.i0[x], b = xs.i1[x], wx = xs.t[x];
      const top = data[r0 + a] * (1 - wx) + data[r0 + b] * wx;
      const bottom = data[r1 + a] * (1 - wx) + data[r1 + b] * wx;
      out[y * outWidth + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return { width: outWidth, height: outHeight, data: out as T };
}

/** Bilinear taps along one axis (float64 weights). */
function taps(inSize: number, outSize: number) {
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize), t = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const c = (o + 0.5) * scale - 0.5;
    const f = Math.floor(c);
    i0[o] = reflectIndex(f, inSize);
    i1[o] = reflectIndex(f + 1, inSize);
    t[o] = c - f;
  }
  return { i0, i1, t };
}

/** scipy `gaussian_kernel1d` weights (truncate 4), normalised; radius int(4σ + 0.5). */
export function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 / (sigma * sigma)) * i * i);
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** 1-D Gaussian along rows (`vertical`) or columns, mirrored borders; σ ≤ 1e-15 is a no-op. */
function gaussianAxis(
  data: Float32Array | Float64Array,
  w: number,
  h: number,
  sigma: number,
  vertical: boolean,
  round: (v: number) => number,
): Float32Array | Float64Array {
  if (sigma <= 1e-15) return data;
  const k = gaussianKernel(sigma), r = (k.length - 1) / 2;
  const out = data instanceof Float32Array
    ? new Float32Array(data.length)
    : new Float64Array(data.length);
  const n = vertical ? h : w;
  const idx = new Int32Array(n + 2 * r);
  for (let i = -r; i < n + r; i++) idx[i + r] = reflectIndex(i, n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      const c = vertical ? y : x;
      for (let j = -r; j <= r; j++) {
        const s = idx[c + j + r];
        acc += k[j + r] * (vertical ? data[s * w + x] : data[y * w + s]);
      }
      out[y * w + x] = round(acc);
    }
  }
  return out;
}
