/**
 * The hook where per-image decisions plug into `serve` and `worker`: given the map and the
 * request's `threshold` / `min_area`, a verdict, the regions and a mask. This is a minimal
 * stand-in (explicit threshold only: pixels above it, 8-connected regions of at least `min_area`
 * pixels); the decision module (`src/decision/decide.ts`: zero-shot thresholds, profiles, region
 * scores) replaces the body of {@link decideHook} when it lands, keeping its shape.
 * @module
 */
import type { ScalarMap } from "../base/maps.ts";
import { labelComponents } from "../eval/components.ts";

/** The decision options a request may carry. */
export interface DecisionRequest {
  /** Explicit threshold on the map (`?threshold=`). */
  threshold?: number;
  /** Regions smaller than this many pixels are dropped (`?min_area=`, default 1). */
  minArea?: number;
}

/** One kept region: bounding box, area in pixels and the map's peak inside. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
  area: number;
  peak: number;
}

/** JSON fields added to a detection's line when a decision was asked for. */
export interface DecisionFields {
  threshold: number;
  verdict: "defect" | "ok";
  regions: Region[];
}

/** Regions listed at most (largest first). */
export const MAX_REGIONS = 100;

/** Decide, or undefined when the request asked for no decision. `mask`: 255 on kept regions. */
export function decideHook(
  map: ScalarMap,
  req: DecisionRequest,
): { fields: DecisionFields; mask: Uint8Array } | undefined {
  if (req.threshold === undefined) return undefined;
  const { width, height, data } = map;
  const t = req.threshold, minArea = req.minArea ?? 1;
  const above = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) above[i] = data[i] > t ? 1 : 0;
  const c = labelComponents(above, width, height);
  const boxes = Array.from({ length: c.count + 1 }, () => ({
    x0: Infinity,
    y0: Infinity,
    x1: -1,
    y1: -1,
    peak: -Infinity,
  }));
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const l = c.labels[i];
      if (l === 0) continue;
      const b = boxes[l];
      if (x < b.x0) b.x0 = x;
      if (x > b.x1) b.x1 = x;
      if (y < b.y0) b.y0 = y;
      if (y > b.y1) b.y1 = y;
      if (data[i] > b.peak) b.peak = data[i];
    }
  }
  const kept = new Uint8Array(c.count + 1);
  const regions: Region[] = [];
  for (let l = 1; l <= c.count; l++) {
    if (c.sizes[l] < minArea) continue;
    kept[l] = 1;
    const b = boxes[l];
    regions.push({
      x: b.x0,
      y: b.y0,
      width: b.x1 - b.x0 + 1,
      height: b.y1 - b.y0 + 1,
      area: c.sizes[l],
      peak: b.peak,
    });
  }
  regions.sort((a, b) => b.area - a.area);
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = kept[c.labels[i]] ? 255 : 0;
  return {
    fields: {
      threshold: t,
      verdict: regions.length > 0 ? "defect" : "ok",
      regions: regions.slice(0, MAX_REGIONS),
    },
    mask,
  };
}
