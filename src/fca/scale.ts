/**
 * Per-channel min-max scaling of features (convention 1 in docs/conventions.md:
 * `(x - min) / (max - min + 1e-8)` over all positions of each channel, in float32).
 * @module
 */
import type { FeatureMap } from "./types.ts";

/** Scale each channel of `features` to [0, 1) in place and return it. */
export function minMaxScale(features: FeatureMap): FeatureMap {
  const { channels, height, width, data } = features;
  const n = height * width;
  for (let c = 0; c < channels; c++) {
    const plane = data.subarray(c * n, (c + 1) * n);
    let lo = Infinity, hi = -Infinity, probe = 0;
    for (let i = 0; i < n; i++) {
      const v = plane[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      probe += v * 0; // becomes NaN on any NaN or ±Inf
    }
    if (probe !== 0 || n === 0) {
      throw new Error(`feature channel ${c} contains NaN or Inf (bad model output)`);
    }
    const denom = Math.fround(Math.fround(hi - lo) + 1e-8);
    for (let i = 0; i < n; i++) plane[i] = Math.fround(Math.fround(plane[i] - lo) / denom);
  }
  return features;
}
