/**
 * Statistics compared with their own spatial mean (paper Eqs. 2–3: `hist` and `moments`), split
 * into the two steps a tiler needs: per channel, P local planes of any crop of the map; then, once
 * the mean planes of the whole map are known, each pixel's distance to them. Run on the whole map
 * ({@link spatialMeanMap}) this is exactly the reference code's computation; a tiler runs the same
 * two steps over tiles (`src/pipeline/tiling/spatial_mean.ts`).
 * @module
 */
import type { FeatureMap, ScalarMap } from "../types.ts";

/** A local statistic with P planes per channel, compared with the spatial mean of its planes. */
export interface SpatialMeanStatistic {
  /** Local planes per channel. */
  readonly planes: number;
  /** The blur radius of the local planes: a crop needs this many extra pixels on each side. */
  readonly radius: number;
  /** Local planes `[P, h·w]` of channel `c` of `features` (the whole map or a crop of it). */
  local(features: FeatureMap, c: number): Float64Array;
  /**
   * Add every pixel's distance between its local planes and the mean planes `mean` (P values)
   * to `acc` (h·w values).
   */
  accumulate(local: Float64Array, mean: Float64Array, acc: Float64Array): void;
  /** The summed distances are divided by this (channels × planes per distance term). */
  readonly divisor: number;
}

/** Anomaly map of `features` for `stat`, over the whole map in one piece. */
export function spatialMeanMap(features: FeatureMap, stat: SpatialMeanStatistic): ScalarMap {
  const { channels: C, height: H, width: W } = features;
  const n = H * W, P = stat.planes;
  const acc = new Float64Array(n);
  const mean = new Float64Array(P);
  // One channel at a time keeps memory at P planes whatever C is.
  for (let c = 0; c < C; c++) {
    const local = stat.local(features, c);
    for (let p = 0; p < P; p++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += local[p * n + k];
      mean[p] = s / n;
    }
    stat.accumulate(local, mean, acc);
  }
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = acc[k] / stat.divisor;
  return { height: H, width: W, data: out };
}

/** Per-channel minimum and maximum of a feature map. */
export function channelRanges(features: FeatureMap): { lo: Float32Array; hi: Float32Array } {
  const { channels: C, height: H, width: W, data } = features;
  const n = H * W, lo = new Float32Array(C), hi = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    let a = Infinity, b = -Infinity;
    for (let k = c * n; k < (c + 1) * n; k++) {
      if (data[k] < a) a = data[k];
      if (data[k] > b) b = data[k];
    }
    lo[c] = a;
    hi[c] = b;
  }
  return { lo, hi };
}
