/**
 * Image scores mapped to [0, 1] so that the decision threshold sits at 0.5, like anomalib's
 * min-max normalisation: `clip((score − threshold) / span + 0.5, 0, 1)`.
 * @module
 */

/**
 * Normalise a score: `clip((score − threshold) / span + 0.5, 0, 1)`. A score at the threshold
 * maps to 0.5, one `span/2` below it to 0 and one `span/2` above it to 1; the map is increasing,
 * so `normalized > 0.5` exactly when `score > threshold`. A span that is not positive and finite
 * gives a step: 1 above the threshold, 0.5 at it, 0 below. NaN scores give 0.
 *
 * Spans used by the decision (docs/decision.md):
 * - a profile: the range of the good images' scores (anomalib: max − min of the normal scores);
 * - zero-shot: `2 · (threshold − median of the map)`, so that the map's median maps to 0.
 */
export function normalizeScore(score: number, threshold: number, span: number): number {
  if (Number.isNaN(score)) return 0;
  if (!(span > 0) || !Number.isFinite(span)) {
    return score > threshold ? 1 : score === threshold ? 0.5 : 0;
  }
  const v = (score - threshold) / span + 0.5;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
