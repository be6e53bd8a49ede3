/**
 * The per-image decision: threshold (explicit, profile or zero-shot), regions, verdict and a
 * normalised score. Pure: a map in, a JSON-ready record (and the region mask) out.
 * @module
 */
import type { ScalarMap } from "../fca/types.ts";
import { findRegions, MAX_REGIONS, type Region, regionScore } from "./regions.ts";
import {
  DEFAULT_ZERO_SHOT_RULE,
  type Threshold,
  type ZeroShotRule,
  zeroShotThreshold,
} from "./threshold.ts";
import { normalizeScore } from "./normalize.ts";
import { type Profile, type ProfileLevel, profileSpan, profileThreshold } from "./profile.ts";

/** Default minimum region area in pixels (docs/decision.md). */
export const DEFAULT_MIN_AREA = 16;

/**
 * Default border band in pixels where regions never start (the map is unreliable there, see
 * docs/decision.md).
 */
export const DEFAULT_BORDER = 0;

/** Options of {@link decide}. */
export interface DecisionOptions {
  /** Explicit threshold (`--threshold`); wins over everything. */
  threshold?: number;
  /** Calibration profile (`--profile`), used when there is no explicit threshold. */
  profile?: Profile;
  /** Which of the profile's thresholds (default "image": the verdict's false-alarm rate). */
  profileLevel?: ProfileLevel;
  /** Zero-shot rule's α and k (defaults {@link DEFAULT_ZERO_SHOT_RULE}). */
  alpha?: number;
  k?: number;
  /** Regions smaller than this are dropped (default: the profile's, else {@link DEFAULT_MIN_AREA}). */
  minArea?: number;
  /** Border band in pixels (default: the profile's, else {@link DEFAULT_BORDER}). */
  border?: number;
  /** Regions listed (default 100). */
  maxRegions?: number;
}

/** The decision record of one image (JSON fields as printed). */
export interface Decision {
  threshold: Threshold;
  verdict: "defect" | "ok";
  /** The image score (region score, see regions.ts) mapped so that the threshold is 0.5. */
  score_normalized: number;
  /** Kept regions, largest first, at most `maxRegions`. */
  regions: Region[];
  /** Kept regions beyond the cap. */
  regions_omitted: number;
}

/** A decision with its region mask (1 = pixel of a kept region). */
export interface DecisionResult {
  decision: Decision;
  mask: Uint8Array;
  /** The region score: `verdict === "defect"` exactly when it is above the threshold. */
  score: number;
}

/** Decide for one map (at input resolution). */
export function decide(map: ScalarMap, opts: DecisionOptions = {}): DecisionResult {
  const profile = opts.profile;
  const minArea = opts.minArea ?? profile?.minArea ?? DEFAULT_MIN_AREA;
  const border = opts.border ?? profile?.border ?? DEFAULT_BORDER;
  const rule: ZeroShotRule = {
    alpha: opts.alpha ?? DEFAULT_ZERO_SHOT_RULE.alpha,
    k: opts.k ?? DEFAULT_ZERO_SHOT_RULE.k,
    border,
    minArea,
  };
  // The image score, computed once: it is also the zero-shot rule's peak.
  const score = regionScore(map, minArea, border);
  let threshold: Threshold;
  let span: number;
  if (opts.threshold !== undefined) {
    if (!Number.isFinite(opts.threshold)) {
      throw new Error(`threshold must be a finite number, got ${opts.threshold}`);
    }
    threshold = { value: opts.threshold, source: "explicit" };
    span = profile
      ? profileSpan(profile)
      : 2 * (opts.threshold - zeroShotThreshold(map, rule, score).stats.median);
  } else if (profile) {
    threshold = { value: profileThreshold(profile, opts.profileLevel), source: "profile" };
    span = profileSpan(profile);
  } else {
    const z = zeroShotThreshold(map, rule, score);
    threshold = { value: z.value, source: "zero-shot" };
    span = 2 * (z.value - z.stats.median);
  }
  const found = findRegions(map, threshold.value, {
    minArea,
    border,
    maxRegions: opts.maxRegions ?? MAX_REGIONS,
  });
  const kept = found.regions.length + found.omitted;
  return {
    decision: {
      threshold,
      verdict: kept > 0 ? "defect" : "ok",
      score_normalized: normalizeScore(score, threshold.value, span),
      regions: found.regions,
      regions_omitted: found.omitted,
    },
    mask: found.mask,
    score,
  };
}
