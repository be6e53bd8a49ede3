/**
 * The per-image decision of `serve`: the same as the CLI's (src/decision/decide.ts): the
 * request's `threshold`, else the zero-shot threshold of the image's own map; regions of at least
 * `min_area` pixels; verdict, normalised score, regions. The mask comes back as 0/255 bytes, ready
 * for a grayscale PNG.
 * @module
 */
import type { ScalarMap } from "../base/maps.ts";
import { decide, type Decision } from "../decision/decide.ts";
import { optionDefault } from "../design.ts";

/** The decision options a request may carry. */
export interface DecisionRequest {
  /** Explicit threshold on the map (`?threshold=`). */
  threshold?: number;
  /** Regions smaller than this many pixels are dropped (`?min_area=`, the CLI's default). */
  minArea?: number;
}

/** The decision of `map` (the CLI's JSON fields) and its region mask (255 on kept regions). */
export function decideHook(
  map: ScalarMap,
  req: DecisionRequest,
): { fields: Decision; mask: Uint8Array } {
  const { decision, mask } = decide(map, {
    threshold: req.threshold,
    minArea: req.minArea ?? optionDefault("minArea"),
  });
  for (let i = 0; i < mask.length; i++) mask[i] = mask[i] ? 255 : 0;
  return { fields: decision, mask };
}
