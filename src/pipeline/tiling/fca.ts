/**
 * The FCA stage over feature tiles. An output pixel receives contributions from the windows
 * centred within h = T//2 of it, and each of those windows reads features within h of its own
 * centre; so a tile that owns rows `[a, b)` and reads rows `[a − 2h, b + 2h)` computes every
 * contribution to its owned pixels from the same values, in the same order, as the whole map does.
 * Reflect padding inside a tile differs from the whole map's only at the tile's inner edges, and
 * the windows that see it are centred at least h + 1 outside the owned part, where nothing is kept;
 * at the true image borders a tile has no halo and reflects exactly like the whole map. With the
 * global median reference passed in, the tiled map therefore equals the untiled one bit for bit.
 * @module
 */
import type { FcaParams, FeatureMap, ScalarMap } from "../../fca/types.ts";
import { planAxis } from "./plan.ts";

/** Anything that computes an FCA map of (scaled) features with a given reference, like `CpuFca`. */
export interface FcaEngine {
  /** FCA map of `features` (already min-max scaled) against `reference` ([C, T·T]). */
  fcaMap(features: FeatureMap, params: FcaParams, reference: Float32Array): Promise<ScalarMap>;
}

/** Reads scaled features of rows `[y0, y1)` × columns `[x0, x1)` of the whole map (CHW). */
export type RectReader = (
  y0: number,
  y1: number,
  x0: number,
  x1: number,
) => FeatureMap | Promise<FeatureMap>;

/**
 * FCA map (`height`×`width`) of a feature map read tile by tile through `read`, each tile owning
 * at most `tile`×`tile` feature pixels plus a halo of T − 1 on each side. `reference` must be the
 * whole map's median reference.
 */
export async function tiledFcaMap(
  read: RectReader,
  height: number,
  width: number,
  engine: FcaEngine,
  reference: Float32Array,
  params: FcaParams,
  tile: number,
): Promise<ScalarMap> {
  const halo = 2 * (params.patch >> 1);
  const out = new Float32Array(height * width);
  for (const ty of planAxis(height, tile, halo)) {
    for (const tx of planAxis(width, tile, halo)) {
      const features = await read(ty.inStart, ty.inEnd, tx.inStart, tx.inEnd);
      const part = await engine.fcaMap(features, params, reference);
      const pw = tx.inEnd - tx.inStart, dy = ty.start - ty.inStart, dx = tx.start - tx.inStart;
      const w = tx.end - tx.start;
      for (let y = ty.start; y < ty.end; y++) {
        const src = (y - ty.start + dy) * pw + dx;
        out.set(part.data.subarray(src, src + w), y * width + tx.start);
      }
    }
  }
  return { height, width, data: out };
}

/** Rows `[y0, y1)` × columns `[x0, x1)` of an in-memory CHW feature map, as a new map. */
export function cropFeatures(
  f: FeatureMap,
  y0: number,
  y1: number,
  x0: number,
  x1: number,
): FeatureMap {
  const C = f.channels, h = y1 - y0, w = x1 - x0;
  const data = new Float32Array(C * h * w);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < h; y++) {
      const src = (c * f.height + y0 + y) * f.width + x0;
      data.set(f.data.subarray(src, src + w), (c * h + y) * w);
    }
  }
  return { channels: C, height: h, width: w, data };
}
