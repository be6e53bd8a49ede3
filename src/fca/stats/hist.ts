/**
 * Local histograms compared by 1-D earth mover's distance (paper Eq. 3; reference `sc_hist`,
 * convention 11 in docs/conventions.md). Features are min-max re-scaled per channel, binned with
 * floor(0.999·bins·x) (float32, as torch), one-hot encoded, and each bin plane is blurred with a
 * T-tap Gaussian of σ (reflect padding) to give a Gaussian-weighted local histogram. Its EMD to the
 * spatial mean histogram is the mean over bins of |cumsum difference|; scores are averaged over
 * channels.
 * @module
 */
import { minMaxScale } from "../scale.ts";
import type { FeatureMap, ScalarMap } from "../types.ts";
import { gaussianBlurPlanes } from "./blur.ts";

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
  const bins = options.bins ?? 10;
  const sigma = options.sigma ?? 6;
  if (!Number.isInteger(bins) || bins < 1) {
    throw new Error(`stats/hist.ts: bins must be a positive integer, got ${bins}`);
  }
  const { channels: C, height: H, width: W } = features;
  const n = H * W;
  const scaled = minMaxScale({ ...features, data: features.data.slice() });
  const idx = binIndices(scaled.data, bins);
  // torch's one_hot sizes the class axis by the largest index present, so do the same.
  let nb = 0;
  for (let k = 0; k < idx.length; k++) if (idx[k] + 1 > nb) nb = idx[k] + 1;
  const acc = new Float64Array(n);
  const oneHot = new Float32Array(nb * n);
  const rep = new Float64Array(nb);
  for (let c = 0; c < C; c++) {
    oneHot.fill(0);
    for (let k = 0; k < n; k++) oneHot[idx[c * n + k] * n + k] = 1;
    const local = gaussianBlurPlanes(oneHot, nb, H, W, patch, sigma);
    for (let b = 0; b < nb; b++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += local[b * n + k];
      rep[b] = s / n;
    }
    for (let k = 0; k < n; k++) {
      let c1 = 0, c2 = 0, emd = 0;
      for (let b = 0; b < nb; b++) {
        c1 += rep[b];
        c2 += local[b * n + k];
        emd += Math.abs(c1 - c2);
      }
      acc[k] += emd / nb;
    }
  }
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = acc[k] / C;
  return { height: H, width: W, data: out };
}
