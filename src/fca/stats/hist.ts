/**
 * Local histograms compared by 1-D earth mover's distance (paper Eq. 3; reference `sc_hist`,
 * convention 11 in docs/conventions.md). Features are min-max re-scaled per channel, binned with
 * floor(0.999·bins·x) (float32, as torch), one-hot encoded, and each bin plane is blurred with a
 * T-tap Gaussian of σ (reflect padding) to give a Gaussian-weighted local histogram. Its EMD to the
 * spatial mean histogram is the mean over bins of |cumsum difference|; scores are averaged over
 * channels.
 * @module
 */
import type { FeatureMap, ScalarMap } from "../types.ts";
import { gaussianBlurPlanes } from "./blur.ts";
import { channelRanges, spatialMeanMap, type SpatialMeanStatistic } from "./spatial_mean.ts";

/** Options of {@link histMap}; defaults are the reference code's. */
export interface HistOptions {
  /** Number of bins (default 10). */
  bins?: number;
  /** σ of the T-tap blur that forms the local histograms (default 6). */
  sigma?: number;
}

/** Per-value bin index, exactly as `floor(0.999 * bins * scaled)` evaluates in float32 torch. */
export function binIndices(scaled: Float32Array, bins: number): Int32Array {
  const factor = Math.fround(0.999 * bins);
  const idx = new Int32Array(scaled.length);
  for (let k = 0; k < scaled.length; k++) idx[k] = Math.floor(Math.fround(factor * scaled[k]));
  return idx;
}

/** Histogram-EMD anomaly map (H×W) of `features` with window side `patch`. */
export function histMap(features: FeatureMap, patch: number, options: HistOptions = {}): ScalarMap {
  const stat = histStatistic(channelRanges(features), features.channels, patch, options);
  return spatialMeanMap(features, stat);
}

/**
 * The histogram statistic of a map whose channels span `range` (their minimum and maximum over
 * the whole map, which fix the re-scaling and the bin count for every crop).
 */
export function histStatistic(
  range: { lo: Float32Array; hi: Float32Array },
  channels: number,
  patch: number,
  options: HistOptions = {},
): SpatialMeanStatistic {
  const bins = options.bins ?? 10;
  const sigma = options.sigma ?? 6;
  if (!Number.isInteger(bins) || bins < 1) {
    throw new Error(`stats/hist.ts: bins must be a positive integer, got ${bins}`);
  }
  // Re-scaling as src/fca/scale.ts does it, with the whole map's range.
  const denom = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    denom[c] = Math.fround(Math.fround(range.hi[c] - range.lo[c]) + 1e-8);
  }
  const rescale = (c: number, v: number) => Math.fround(Math.fround(v - range.lo[c]) / denom[c]);
  const factor = Math.fround(0.999 * bins);
  const bin = (c: number, v: number) => Math.floor(Math.fround(factor * rescale(c, v)));
  // torch's one_hot sizes the class axis by the largest index present (over every channel), and
  // binning is monotonic, so that index is the bin of the largest value.
  let nb = 0;
  for (let c = 0; c < channels; c++) nb = Math.max(nb, bin(c, range.hi[c]) + 1);
  return {
    planes: nb,
    radius: patch >> 1,
    divisor: channels,
    local(f, c) {
      const n = f.height * f.width;
      const oneHot = new Float32Array(nb * n);
      for (let k = 0; k < n; k++) oneHot[bin(c, f.data[c * n + k]) * n + k] = 1;
      return gaussianBlurPlanes(oneHot, nb, f.height, f.width, patch, sigma);
    },
    accumulate(local, rep, acc) {
      const n = acc.length;
      for (let k = 0; k < n; k++) {
        let c1 = 0, c2 = 0, emd = 0;
        for (let b = 0; b < nb; b++) {
          c1 += rep[b];
          c2 += local[b * n + k];
          emd += Math.abs(c1 - c2);
        }
        acc[k] += emd / nb;
      }
    },
  };
}
