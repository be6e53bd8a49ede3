/**
 * Averaging the maps of one image taken at several working scales (`--cells 50,80`). Each scale
 * gives a feature-resolution map of its own size; they are resized bilinearly (the upsampling's
 * convention, {@link resizeBilinear}) onto the grid of the largest one and averaged there. This is
 * the readable specification of `kernels/fuse_scales.wgsl`.
 *
 * Why it works (docs/ablation.md, "Third round"): a coarse scale sees more context per feature
 * cell and keeps large stains and patches whole; a fine scale resolves thin cracks. Their mean
 * keeps what both agree on and halves what only one of them flags by chance.
 *
 * @example
 * ```ts
 * import { fuseScales } from "./fuse_scales.ts";
 * const a = { height: 1, width: 1, data: Float32Array.of(2) };
 * const b = { height: 2, width: 2, data: Float32Array.of(0, 0, 0, 0) };
 * console.assert(fuseScales([a, b]).data.join() === "1,1,1,1");
 * ```
 * @module
 */
import type { ScalarMap } from "./types.ts";
import { resizeBilinear } from "./upsample.ts";

/** The grid the maps are fused on: the map with the most cells (the first of equals). */
export function fusionGrid(maps: readonly ScalarMap[]): { height: number; width: number } {
  if (maps.length === 0) throw new Error("fuseScales: no maps");
  let best = maps[0];
  for (const m of maps) if (m.height * m.width > best.height * best.width) best = m;
  return { height: best.height, width: best.width };
}

/** The mean of `maps`, each resized onto {@link fusionGrid}; one map is returned as it is. */
export function fuseScales(maps: readonly ScalarMap[]): ScalarMap {
  if (maps.length === 1) return maps[0];
  const { height, width } = fusionGrid(maps);
  const sum = new Float32Array(height * width);
  const w = Math.fround(1 / maps.length);
  for (const m of maps) {
    const r = m.height === height && m.width === width ? m : resizeBilinear(m, height, width);
    // float32 accumulation in scale order, as the kernel does it.
    for (let i = 0; i < sum.length; i++) sum[i] = Math.fround(sum[i] + Math.fround(w * r.data[i]));
  }
  return { height, width, data: sum };
}

/**
 * A border band of `band` cells of the first scale's map (`--score-border`), in cells of the
 * fused map: the same part of the image, since border artefacts reach as far into the image at
 * every scale (4 cells of a 50-cell map are 6 cells of an 80-cell one).
 */
export function bandOnFused(
  band: number,
  fused: { height: number; width: number },
  first: { height: number; width: number },
): number {
  const short = (m: { height: number; width: number }) => Math.min(m.height, m.width);
  return Math.round((band * short(fused)) / short(first));
}
