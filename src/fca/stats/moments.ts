/**
 * Local moments (paper Eq. 2 extended to Gaussian weighting and moments 1..4; reference
 * `sc_moments`, convention 11 in docs/conventions.md): every channel raised to each power, blurred with a
 * T-tap Gaussian of σ (reflect padding), and compared by mean squared difference (over
 * channels × powers) with the spatial mean of those local moments.
 * @module
 */
import type { FeatureMap, ScalarMap } from "../types.ts";
import { gaussianBlurPlanes } from "./blur.ts";

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
  const powers = options.powers ?? [1, 2, 3, 4];
  const sigma = options.sigma ?? 6;
  const { channels: C, height: H, width: W, data } = features;
  const n = H * W, P = powers.length;
  const acc = new Float64Array(n);
  const raised = new Float32Array(P * n);
  // One channel at a time keeps memory at P planes whatever C is.
  for (let c = 0; c < C; c++) {
    const plane = data.subarray(c * n, (c + 1) * n);
    for (let p = 0; p < P; p++) {
      for (let k = 0; k < n; k++) raised[p * n + k] = Math.fround(Math.pow(plane[k], powers[p]));
    }
    const local = gaussianBlurPlanes(raised, P, H, W, patch, sigma);
    for (let p = 0; p < P; p++) {
      const m = local.subarray(p * n, (p + 1) * n);
      let mean = 0;
      for (let k = 0; k < n; k++) mean += m[k];
      mean /= n;
      for (let k = 0; k < n; k++) acc[k] += (mean - m[k]) ** 2;
    }
  }
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = acc[k] / (C * P);
  return { height: H, width: W, data: out };
}
