/**
 * The anomaly-map threshold of a decision, from (in this order) an explicit value, a calibration
 * profile, or the image's own map (zero-shot: median + k·MAD of the map's values, see
 * docs/decision.md for how k was chosen).
 * @module
 */
import type { ScalarMap } from "../fca/types.ts";
import { interiorMask } from "./regions.ts";

/** Where a threshold came from. */
export type ThresholdSource = "explicit" | "profile" | "zero-shot";

/** The threshold in use for one image. */
export interface Threshold {
  value: number;
  source: ThresholdSource;
}

/** The zero-shot rule: threshold = median + k · MAD of the map (outside the border band). */
export interface ZeroShotRule {
  /** Multiple of the median absolute deviation above the median. */
  k: number;
  /** Pixels within this many pixels of the border are left out of the statistics (default 0). */
  border?: number;
}

/**
 * The default multiple of the MAD: chosen on the dev sets for pooled mask F1
 * (docs/decision.md).
 */
export const DEFAULT_ZERO_SHOT_K = 6;

/** Median and median absolute deviation (unscaled) of a sample. */
export interface RobustStats {
  median: number;
  mad: number;
}

/** Median of a sorted array (mean of the two middle values for an even count); NaN if empty. */
function sortedMedian(s: Float64Array | Float32Array): number {
  const n = s.length;
  if (n === 0) return NaN;
  const h = n >> 1;
  return n % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * Exact median and MAD (median of |x − median|, not scaled by 1.4826) of the values where
 * `valid` is nonzero (all when absent); NaN values are ignored. NaN for both when nothing is left.
 */
export function robustStats(values: ArrayLike<number>, valid?: ArrayLike<number>): RobustStats {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    if ((!valid || valid[i]) && !Number.isNaN(values[i])) m++;
  }
  const s = new Float64Array(m);
  m = 0;
  for (let i = 0; i < values.length; i++) {
    if ((!valid || valid[i]) && !Number.isNaN(values[i])) s[m++] = values[i];
  }
  s.sort();
  const median = sortedMedian(s);
  for (let i = 0; i < s.length; i++) s[i] = Math.abs(s[i] - median);
  s.sort();
  return { median, mad: sortedMedian(s) };
}

/**
 * The zero-shot threshold of a map: median + k·MAD of its values (outside the border band).
 * Equivariant under scale and offset of the map (a·map + b gives a·t + b for a > 0), so it does
 * not depend on how the map is normalised. A constant map (MAD 0) gets its own value: nothing is
 * strictly above it.
 */
export function zeroShotThreshold(
  map: ScalarMap,
  rule: ZeroShotRule = { k: DEFAULT_ZERO_SHOT_K },
): { value: number; stats: RobustStats } {
  const border = rule.border ?? 0;
  const valid = border > 0 ? interiorMask(map.width, map.height, border) : undefined;
  const stats = robustStats(map.data, valid);
  return { value: stats.median + rule.k * stats.mad, stats };
}

/** Inputs of {@link resolveThreshold}; the first one present wins. */
export interface ThresholdInputs {
  /** An explicit threshold (e.g. `--threshold`). */
  explicit?: number;
  /** A calibrated threshold (from a profile, see profile.ts `profileThreshold`). */
  profile?: number;
  /** The zero-shot rule used otherwise (default k = {@link DEFAULT_ZERO_SHOT_K}). */
  rule?: ZeroShotRule;
}

/** The threshold of one map: explicit, else the profile's, else zero-shot from the map. */
export function resolveThreshold(map: ScalarMap, inputs: ThresholdInputs = {}): Threshold {
  if (inputs.explicit !== undefined) {
    if (!Number.isFinite(inputs.explicit)) {
      throw new Error(`threshold must be a finite number, got ${inputs.explicit}`);
    }
    return { value: inputs.explicit, source: "explicit" };
  }
  if (inputs.profile !== undefined) return { value: inputs.profile, source: "profile" };
  return {
    value: zeroShotThreshold(map, inputs.rule ?? { k: DEFAULT_ZERO_SHOT_K }).value,
    source: "zero-shot",
  };
}
