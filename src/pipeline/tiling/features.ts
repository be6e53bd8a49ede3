/**
 * Backbone features of a large image, one image tile at a time. Tiles start on multiples of the
 * backbone's stride (so every layer's sampling grid lines up with the whole image's) and are read
 * with a halo of at least the receptive-field radius, so the features a tile keeps (those of the
 * pixels it owns) do not see the tile's edges and equal the whole image's.
 * @module
 */
import type { HostFeatureExtractor } from "../../features/backbone.ts";
import type { FeatureMap } from "../../fca/types.ts";
import type { RgbImage } from "../../io/types.ts";
import { cropFeatures } from "./fca.ts";
import { planAxis } from "./plan.ts";

/** How an image is cut for the backbone. */
export interface FeatureTiling {
  /** Owned tile side in image pixels (rounded down to a multiple of `stride`, at least one). */
  tile: number;
  /** Context read on each side, in image pixels: a multiple of `stride` ≥ the receptive radius. */
  halo: number;
  /** The backbone's downsampling factor. */
  stride: number;
}

/** Size of the whole feature map that {@link forEachFeatureTile} produced. */
export interface FeatureShape {
  channels: number;
  height: number;
  width: number;
}

/** Rows `[y0, y1)` × columns `[x0, x1)` of an image. */
export function cropImage(
  image: RgbImage,
  y0: number,
  y1: number,
  x0: number,
  x1: number,
): RgbImage {
  const map = { channels: 3, height: image.height, width: image.width, data: image.data };
  const { data } = cropFeatures(map, y0, y1, x0, x1);
  return { width: x1 - x0, height: y1 - y0, data };
}

/**
 * Run the backbone over `image` tile by tile and hand each tile's owned features (CHW) to `sink`
 * with their position in the whole feature map (ceil(H/stride)×ceil(W/stride)).
 */
export async function forEachFeatureTile(
  backbone: HostFeatureExtractor,
  image: RgbImage,
  tiling: FeatureTiling,
  sink: (block: FeatureMap, fy: number, fx: number) => void | Promise<void>,
): Promise<FeatureShape> {
  const { tile, halo, stride: s } = tiling;
  if (!Number.isInteger(halo) || halo < 0 || halo % s !== 0) {
    throw new Error(`tiling: halo ${halo} must be a non-negative multiple of the stride ${s}`);
  }
  const rows = planAxis(image.height, tile, halo, s), cols = planAxis(image.width, tile, halo, s);
  const height = Math.ceil(image.height / s), width = Math.ceil(image.width / s);
  let channels = 0;
  for (const ty of rows) {
    for (const tx of cols) {
      const crop = cropImage(image, ty.inStart, ty.inEnd, tx.inStart, tx.inEnd);
      const f = await backbone.extract(crop);
      const oy = (ty.start - ty.inStart) / s, ox = (tx.start - tx.inStart) / s;
      const h = Math.ceil(ty.end / s) - ty.start / s, w = Math.ceil(tx.end / s) - tx.start / s;
      if (f.height !== Math.ceil(crop.height / s) || f.width !== Math.ceil(crop.width / s)) {
        throw new Error(
          `tiling: a ${crop.width}x${crop.height} tile gave ${f.width}x${f.height} features, expected ceil(size/${s}); the model's stride is not ${s}`,
        );
      }
      if (channels === 0) channels = f.channels;
      await sink(cropFeatures(f, oy, oy + h, ox, ox + w), ty.start / s, tx.start / s);
    }
  }
  return { channels, height, width };
}

/**
 * Measure the backbone's receptive-field radius empirically and return a safe halo: perturb one
 * stride×stride block of a random probe image (every phase of the sampling grid) and find how far
 * (in image pixels, from stride·f to the nearest perturbed pixel) the features that change lie;
 * the probe grows until the change stays clear of its borders. The halo is that radius rounded up
 * to the stride, plus one stride of margin.
 */
export async function measureHalo(backbone: HostFeatureExtractor, stride: number): Promise<number> {
  for (let size = 16 * stride; size <= 4096; size *= 2) {
    const n = size * size, data = new Float32Array(3 * n);
    let state = 12345;
    for (let i = 0; i < data.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      data[i] = (state >>> 8) / 16777216;
    }
    const p = size >> 1;
    const base = await backbone.extract({ width: size, height: size, data });
    for (let c = 0; c < 3; c++) {
      for (let y = p; y < p + stride; y++) {
        for (let x = p; x < p + stride; x++) {
          data[c * n + y * size + x] = (data[c * n + y * size + x] + 0.5) % 1;
        }
      }
    }
    const dist = (f: number) => Math.max(0, p - stride * f, stride * f - (p + stride - 1));
    const moved = await backbone.extract({ width: size, height: size, data });
    const { channels: C, height: h, width: w } = base;
    let radius = 0, touches = false;
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = (c * h + y) * w + x;
          if (base.data[i] === moved.data[i]) continue;
          radius = Math.max(radius, dist(y), dist(x));
          if (y === 0 || x === 0 || y === h - 1 || x === w - 1) touches = true;
        }
      }
    }
    if (!touches) return (Math.ceil(radius / stride) + 1) * stride;
  }
  throw new Error("tiling: the backbone's receptive field exceeds 2048 pixels; pass a halo");
}
