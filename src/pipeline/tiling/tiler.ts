/**
 * The CPU pipeline up to the FCA map for images of any size, with memory proportional to the tile
 * rather than the image (apart from the decoded image and the map itself, which are image-sized
 * by nature):
 *
 * 1. the backbone runs on image tiles with a receptive-field halo (`tiling_features.ts`); each
 *    tile's owned features are streamed to a temporary file (`tiling_store.ts`) while the
 *    per-channel ranges of the whole map are gathered (`tiling_scale.ts`);
 * 2. the global median reference is computed from the file, one band of T rows and one channel
 *    at a time (`tiling_median.ts`);
 * 3. FCA runs on feature tiles read back with a halo of T − 1, scaled with the global ranges, and
 *    their owned parts are assembled (`tiling_fca.ts`).
 *
 * The result equals the untiled computation bit for bit in the FCA stages, and to onnxruntime's
 * rounding in the features (the tests bound both).
 * @module
 */
import type { HostFeatureExtractor } from "../../features/backbone.ts";
import type { FcaParams, ScalarMap } from "../../fca/types.ts";
import type { RgbImage } from "../../io/types.ts";
import { type FcaEngine, tiledFcaMap } from "./fca.ts";
import { forEachFeatureTile, measureHalo } from "./features.ts";
import { storedMedianReference } from "./median.ts";
import { ChannelRange } from "./scale.ts";
import { FeatureStore } from "./store.ts";

import { autoTileSize, DEFAULT_AUTO_TILE } from "./plan.ts";

export { autoTileSize, DEFAULT_AUTO_TILE, measureHalo };

/** How to tile one image. */
export interface TiledOptions {
  /** Owned tile side in image pixels (a multiple of `stride` is used). */
  tile: number;
  /** Backbone stride (image pixels per feature pixel). */
  stride: number;
  /** Backbone halo in image pixels, a multiple of `stride` ≥ the receptive-field radius. */
  halo: number;
  /** Owned FCA tile side in feature pixels (default `tile / stride`). */
  fcaTile?: number;
  /** Folder for the temporary feature files (default: the system's temp folder). */
  tempDir?: string;
}

/**
 * FCA map at feature resolution (ceil(H/stride)×ceil(W/stride)) of `image`, computed in tiles.
 * Stage milliseconds are added to `timings` (backbone, scale, median, fca). Throws one line when
 * the feature map is smaller than one patch.
 */
export async function tiledFeatureMap(
  backbone: HostFeatureExtractor,
  engine: FcaEngine,
  image: RgbImage,
  params: FcaParams,
  opts: TiledOptions,
  timings: Record<string, number> = {},
): Promise<ScalarMap> {
  const s = opts.stride;
  const fh = Math.ceil(image.height / s), fw = Math.ceil(image.width / s);
  if (fh < params.patch || fw < params.patch) {
    throw new Error(
      `image ${image.width}x${image.height} gives a ${fw}x${fh} feature map, smaller than one ${params.patch}x${params.patch} patch: use a larger image, --size, or a smaller --patch`,
    );
  }
  let store: FeatureStore | undefined, range: ChannelRange | undefined;
  let t = performance.now(), io = 0;
  try {
    await forEachFeatureTile(backbone, image, opts, async (block, fy, fx) => {
      const t0 = performance.now();
      if (!store) {
        store = await FeatureStore.create(block.channels, fh, fw, opts.tempDir);
        range = new ChannelRange(block.channels);
      }
      range!.update(block);
      store.writeBlock(block, fy, fx);
      io += performance.now() - t0;
    });
    timings.backbone = performance.now() - t - io;
    timings.scale = io;
    t = performance.now();
    const reference = await storedMedianReference(store!, range!, params.patch, opts.tempDir);
    timings.median = performance.now() - t;
    t = performance.now();
    const map = await tiledFcaMap(
      (y0, y1, x0, x1) => range!.scaleInPlace(store!.readRect(y0, y1, x0, x1)),
      fh,
      fw,
      engine,
      reference,
      params,
      opts.fcaTile ?? Math.max(1, Math.floor(opts.tile / s)),
    );
    timings.fca = performance.now() - t;
    return map;
  } finally {
    store?.close();
  }
}

/** How a {@link CpuTiler} decides to tile. */
export interface CpuTilerOptions {
  /** Tile side in image pixels; 0 or absent: tile automatically, only images that need it. */
  tile?: number;
  /** Backbone stride from the manifest; measured from the backbone when absent. */
  stride?: number;
  /** Feature channels from the manifest (for the automatic size limit; default 512). */
  channels?: number;
  /** Folder for the temporary feature files. */
  tempDir?: string;
}

/**
 * The tiled CPU path of a detector: decides per image whether to tile, measures the backbone's
 * stride (when unknown) and halo once, on first use, and computes the FCA map in tiles.
 */
export class CpuTiler {
  #geometry: Promise<{ stride: number; halo: number }> | undefined;

  /** A tiler for one backbone and FCA engine. */
  constructor(
    private readonly backbone: HostFeatureExtractor,
    private readonly engine: FcaEngine,
    private readonly opts: CpuTilerOptions = {},
  ) {
    const tile = opts.tile ?? 0;
    if (!Number.isInteger(tile) || tile < 0) {
      throw new Error(`--tile must be 0 (automatic) or a positive integer, got ${opts.tile}`);
    }
  }

  /** Tile side for an image of this size, or 0 to run it whole. */
  tileFor(image: { width: number; height: number }): number {
    if (this.opts.tile) return this.opts.tile;
    const stride = this.opts.stride ?? 8;
    return autoTileSize(image.width, image.height, this.opts.channels ?? 512, stride);
  }

  /** FCA map at feature resolution of `image`, in tiles of `tile` pixels (see {@link tiledFeatureMap}). */
  async featureMap(
    image: RgbImage,
    params: FcaParams,
    tile: number,
    timings: Record<string, number> = {},
  ): Promise<ScalarMap> {
    this.#geometry ??= this.#measure().catch((err) => {
      this.#geometry = undefined; // let a later call try again
      throw err;
    });
    const { stride, halo } = await this.#geometry;
    const opts = { tile, stride, halo, tempDir: this.opts.tempDir };
    return await tiledFeatureMap(this.backbone, this.engine, image, params, opts, timings);
  }

  async #measure(): Promise<{ stride: number; halo: number }> {
    let stride = this.opts.stride;
    if (stride === undefined) {
      const probe = await this.backbone.extract({
        width: 64,
        height: 64,
        data: new Float32Array(3 * 64 * 64).fill(0.5),
      });
      stride = 64 / probe.height;
      if (!Number.isInteger(stride) || stride < 1) {
        throw new Error(
          `tiling: cannot infer the backbone's stride (64 px gave ${probe.height} rows)`,
        );
      }
    }
    return { stride, halo: await measureHalo(this.backbone, stride) };
  }
}
