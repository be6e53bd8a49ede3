/**
 * The anomaly-map threshold of a decision, from (in this order) an explicit value, a calibration
 * profile, or the image's own map (zero-shot: the map's median plus a fraction α of its peak's
 * height above the median, at least k·MAD; see docs/decision.md for how α and k were chosen).
 * @module
 */
import type { ScalarMap } from "../fca/types.ts";
import { interiorMask, regionScore } from "./regions.ts";

/** Where a threshold came from. */
export type ThresholdSource = "explicit" | "profile" | "zero-shot";

/** The threshold in use for one image. */
export interface Threshold {
  value: number;
  source: ThresholdSource;
}

/**
 * The zero-shot rule: threshold = median + max(α · (peak − median), k · MAD), statistics of the
 * map outside the border band; peak = the region score (regions.ts `regionScore`: the highest
 * level at which a component of `minArea` pixels exists, the maximum for `minArea` 1).
 */
export interface ZeroShotRule {
  /** Fraction of the peak's height above the median (default 0.4). */
  alpha: number;
  /** Floor in multiples of the median absolute deviation above the median (0: none). */
  k: number;
  /** Pixels within this many pixels of the border are left out of the statistics (default 0). */
  border?: number;
  /** Minimum region area of the peak (default 1: the maximum). */
  minArea?: number;
}

/** The default zero-shot rule, chosen on the dev sets for pooled mask F1 (docs/decision.md). */
export const DEFAULT_ZERO_SHOT_RULE: Readonly<ZeroShotRule> = Object.freeze({ alpha: 0.4, k: 0 });

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

/** The statistics behind a zero-shot threshold. */
export interface ZeroShotStats extends RobustStats {
  /** The peak the fraction α applies to. */
  peak: number;
}

/**
 * The zero-shot threshold of a map: median + max(α·(peak − median), k·MAD), statistics outside
 * the border band. Equivariant under scale and offset of the map (a·map + b gives a·t + b for
 * a > 0), so it does not depend on how the map is normalised. A constant map gets its own value:
 * nothing is strictly above it.
 */
export function zeroShotThreshold(
  map: ScalarMap,
  rule: ZeroShotRule = DEFAULT_ZERO_SHOT_RULE,
  score?: number,
): { value: number; stats: ZeroShotStats } {
  const border = rule.border ?? 0;
  const valid = border > 0 ? interiorMask(map.width, map.height, border) : undefined;
  const stats = robustStats(map.data, valid);
  // `score`: regionScore(map, rule.minArea, border), when the caller has it already.
  let peak = score ?? regionScore(map, rule.minArea ?? 1, border);
  if (!Number.isFinite(peak)) peak = regionScore(map, 1, border);
  const lift = Math.max(rule.alpha * (peak - stats.median), rule.k * stats.mad, 0);
  return { value: stats.median + lift, stats: { ...stats, peak } };
}

/** Inputs of {@link resolveThreshold}; the first one present wins. */
export interface ThresholdInputs {
  /** An explicit threshold (e.g. `--threshold`). */
  explicit?: number;
  /** A calibrated threshold (from a profile, see profile.ts `profileThreshold`). */
  profile?: number;
  /** The zero-shot rule used otherwise (default {@link DEFAULT_ZERO_SHOT_RULE}). */
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
    value: zeroShotThreshold(map, inputs.rule ?? DEFAULT_ZERO_SHOT_RULE).value,
    source: "zero-shot",
  };
}
