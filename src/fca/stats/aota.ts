/**
 * Aota et al.'s zero-shot baseline as the reference code writes it (`sc_aota`): local means
 * (T-tap Gaussian blur with σ = 100, i.e. almost a box filter, reflect padding) are compared with
 * every other position's local means by squared L2 distance, and each position scores the mean of
 * its k smallest distances (itself, at distance 0, included), k = 400. This is moments (first
 * order) with a k-NN reference. O((H·W)²·C): meant for small feature maps (320² images).
 *
 * The reference code then resizes the map to 320×320 (nearest) and blurs it (25 taps, σ = 4),
 * tied to its 320² evaluation; {@link aotaPostprocess} reproduces that step for callers that want it.
 * @module
 */
import type { FeatureMap, ScalarMap } from "../types.ts";
import { gaussianBlurPlanes } from "./blur.ts";

/** Options of {@link aotaMap}; defaults are the reference code's. */
export interface AotaOptions {
  /** Neighbours averaged per position (default 400; capped at H·W). */
  k?: number;
  /** σ of the T-tap blur that forms the local means (default 100). */
  sigma?: number;
}

/** Aota anomaly map (H×W) of `features` with window side `patch`. */
export function aotaMap(features: FeatureMap, patch: number, options: AotaOptions = {}): ScalarMap {
  const { channels: C, height: H, width: W, data } = features;
  const n = H * W;
  const k = Math.min(options.k ?? 400, n);
  if (!Number.isInteger(k) || k < 1) throw new Error(`stats/aota.ts: k must be >= 1, got ${k}`);
  const local = gaussianBlurPlanes(data, C, H, W, patch, options.sigma ?? 100);
  // Position-major copy so each distance reads contiguous memory.
  const pm = new Float64Array(n * C);
  for (let c = 0; c < C; c++) for (let p = 0; p < n; p++) pm[p * C + c] = local[c * n + p];
  const dist = new Float64Array(n);
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const a = p * C;
    for (let q = 0; q < n; q++) {
      const b = q * C;
      let s = 0;
      for (let c = 0; c < C; c++) {
        const d = pm[a + c] - pm[b + c];
        s += d * d;
      }
      dist[q] = s;
    }
    out[p] = meanOfSmallest(dist, k);
  }
  return { height: H, width: W, data: out };
}

/** Mean of the k smallest entries of `values` (reorders `values`; quickselect). */
export function meanOfSmallest(values: Float64Array, k: number): number {
  let lo = 0, hi = values.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  let s = 0;
  for (let q = 0; q < k; q++) s += values[q];
  return s / k;
}

/**
 * The reference code's last step of `sc_aota`: nearest resize to size×size (torch
 * `F.interpolate` default: source index floor(dst·in/out)) and a 25-tap Gaussian blur of σ 4.
 */
export function aotaPostprocess(map: ScalarMap, size = 320): ScalarMap {
  const { height: H, width: W, data } = map;
  const resized = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(H - 1, Math.floor((y * H) / size));
    for (let x = 0; x < size; x++) {
      resized[y * size + x] = data[sy * W + Math.min(W - 1, Math.floor((x * W) / size))];
    }
  }
  return {
    height: size,
    width: size,
    data: Float32Array.from(gaussianBlurPlanes(resized, 1, size, size, 25, 4)),
  };
}
