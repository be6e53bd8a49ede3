/**
 * Local moments (paper Eq. 2 extended to Gaussian weighting and moments 1..4; reference
 * `sc_moments`, convention 11 in docs/conventions.md): every channel raised to each power, blurred with a
 * T-tap Gaussian of σ (reflect padding), and compared by mean squared difference (over
 * channels × powers) with the spatial mean of those local moments.
 * @module
 */
import type { FeatureMap, ScalarMap } from "../types.ts";
import { gaussianBlurPlanes } from "./blur.ts";
import { spatialMeanMap, type SpatialMeanStatistic } from "./spatial_mean.ts";

/** Options of {@link momentsMap}; defaults are the reference code's. */
export interface MomentsOptions {
  /** Powers whose local means are compared (default 1, 2, 3, 4). */
  powers?: readonly number[];
  /** σ of the T-tap blur that forms the local moments (default 6). */
  sigma?: number;
}

/** Moments anomaly map (H×W) of `features` with window side `patch` (the blur's tap count). */
export function momentsMap(
  features: FeatureMap,
  patch: number,
  options: MomentsOptions = {},
): ScalarMap {
  return spatialMeanMap(features, momentsStatistic(features.channels, patch, options));
}

/** The moments statistic of a map with `channels` channels. */
export function momentsStatistic(
  channels: number,
  patch: number,
  options: MomentsOptions = {},
): SpatialMeanStatistic {
  const powers = options.powers ?? [1, 2, 3, 4];
  const sigma = options.sigma ?? 6;
  const P = powers.length;
  return {
    planes: P,
    radius: patch >> 1,
    divisor: channels * P,
    local(f, c) {
      const n = f.height * f.width;
      const plane = f.data.subarray(c * n, (c + 1) * n);
      const raised = new Float32Array(P * n);
      for (let p = 0; p < P; p++) {
        for (let k = 0; k < n; k++) raised[p * n + k] = Math.fround(Math.pow(plane[k], powers[p]));
      }
      return gaussianBlurPlanes(raised, P, f.height, f.width, patch, sigma);
    },
    accumulate(local, mean, acc) {
      const n = acc.length;
      for (let p = 0; p < P; p++) {
        for (let k = 0; k < n; k++) acc[k] += (mean[p] - local[p * n + k]) ** 2;
      }
    },
  };
}
