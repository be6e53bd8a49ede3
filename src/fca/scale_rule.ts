/**
 * The scale-aware working size and patch of the default preset. FCA compares each T×T window with
 * a reference taken from non-overlapping T×T tiles, so what matters is how many feature cells an
 * image spans: a 200² image gives a 25² map at stride 8, where T = 9 covers a third of it and the
 * median has only 4 tiles to choose from. The rule enlarges small images (keeping their aspect)
 * until the feature map's shorter side has `minCells` cells, within a cost cap on the longer side,
 * and picks T from the resulting map.
 *
 * @example
 * ```ts
 * import { patchForCells, workingSize } from "./scale_rule.ts";
 * const rule = { minCells: 64, maxSide: 1024, stride: 8 };
 * console.assert(workingSize(200, 200, rule).join() === "512,512");
 * console.assert(workingSize(320, 480, rule).join() === "512,768");
 * console.assert(workingSize(512, 512, rule).join() === "512,512"); // never shrunk
 * console.assert(patchForCells(64) === 9);
 * ```
 * @module
 */

/** Parameters of {@link workingSize}. */
export interface ScaleRule {
  /** Feature cells wanted on the shorter side. */
  minCells: number;
  /** Longest side in pixels an enlargement may reach. */
  maxSide: number;
  /** Backbone stride (image pixels per feature cell). */
  stride: number;
}

/**
 * Working size `[height, width]` of an image: factor
 * s = min(max(1, minCells·stride / min(h, w)), max(1, maxSide / max(h, w))); when s > 1 the sides
 * are scaled by s and rounded to a multiple of the stride, else the image is left as it is.
 */
export function workingSize(height: number, width: number, rule: ScaleRule): [number, number] {
  const want = (rule.minCells * rule.stride) / Math.min(height, width);
  const cap = rule.maxSide / Math.max(height, width);
  const s = Math.min(Math.max(1, want), Math.max(1, cap));
  if (s <= 1) return [height, width];
  const r = (v: number) => Math.max(rule.stride, Math.round((v * s) / rule.stride) * rule.stride);
  return [r(height), r(width)];
}

/**
 * Patch side T for a feature map whose shorter side has `shortCells` cells: the odd integer
 * nearest to shortCells / 7, within [5, 9] — the paper's T = 9 at 64 cells (512 px at stride 8),
 * smaller on maps that stay small (long thin images, the cost cap).
 */
export function patchForCells(shortCells: number): number {
  const t = 2 * Math.round((shortCells / 7 - 1) / 2) + 1;
  return Math.min(9, Math.max(5, t));
}
