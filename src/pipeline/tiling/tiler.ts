/**
 * The CPU pipeline up to the FCA map for images of any size, with memory proportional to the tile
 * rather than the image (apart from the decoded image and the map itself, which are image-sized
 * by nature):
 *
 * 1. the backbone runs on image tiles with a receptive-field halo (`features.ts`); each
 *    tile's owned features are streamed to a temporary file (`store.ts`) while the
 *    per-channel ranges of the whole map are gathered (`scale.ts`);
 * 2. the global median reference is computed from the file, one band of T rows and one channel
 *    at a time (`median.ts`);
 * 3. the statistic runs on feature tiles read back with a halo of T − 1, scaled with the global
 *    ranges, and their owned parts are assembled (`fca.ts`).
 *
 * Every statistic but aota and every reference but k-NN tiles (see {@link TileStatistic}): `fca`
 * and `sww` against the whole map's median (or random) reference, `hist` and `moments` in two
 * passes against the whole map's mean statistics (`spatial_mean.ts`). The result equals the
 * untiled computation bit for bit for the reference-based statistics, up to the summation order
 * of the mean for the others, and to onnxruntime's rounding in the features (the tests bound
 * all of these).
 * @module
 */
import type { HostFeatureExtractor } from "../../features/backbone.ts";
import type { FcaParams, ScalarMap } from "../../fca/types.ts";
import { checkFeatureSize } from "../../fca/params.ts";
import { randomReferenceOrigin, sortedWindow } from "../../fca/references.ts";
import type { SpatialMeanStatistic } from "../../fca/stats/spatial_mean.ts";
import type { RgbImage } from "../../io/types.ts";
import { type FcaEngine, type RectReader, tiledFcaMap } from "./fca.ts";
import { tiledSpatialMeanMap } from "./spatial_mean.ts";
import { forEachFeatureTile, measureHalo } from "./features.ts";
import { storedMedianReference } from "./median.ts";
import { ChannelRange } from "./scale.ts";
import { FeatureStore } from "./store.ts";

import { autoTileSize, DEFAULT_AUTO_TILE, planAxis } from "./plan.ts";

export { autoTileSize, DEFAULT_AUTO_TILE, measureHalo };

/**
 * What a tiler computes per tile: a statistic against the whole map's reference (`fca`, `sww`),
 * or a statistic against the whole map's spatial mean (`hist`, `moments`).
 */
export type TileStatistic =
  | {
    kind: "reference";
    /** How the whole map's reference is chosen. */
    reference: "median" | "random";
    /** Seed of the random reference. */
    seed: number;
    /** Map of scaled features against a reference `[C, T·T]`. */
    engine: FcaEngine;
  }
  | {
    kind: "spatial-mean";
    /** The statistic for a map of `channels` channels spanning `range` (whole-map extremes). */
    make(
      range: { lo: Float32Array; hi: Float32Array },
      channels: number,
      params: FcaParams,
    ): SpatialMeanStatistic;
  };

/** How to tile one image. */
export interface TiledOptions {
  /** Owned tile side in image pixels (a multiple of `stride` is used). */
  tile: number;
  /** Backbone stride (image pixels per feature pixel). */
  stride: number;
  /** Backbone halo in image pixels, a multiple of `stride` ≥ the receptive-field radius. */
  halo: number;
  /** Owned feature tile side in feature pixels (default `tile / stride`). */
  fcaTile?: number;
  /** Folder for the temporary feature files (default: the system's temp folder). */
  tempDir?: string;
  /** Min-max scale the features (neural features; hand-crafted ones are used as they are). */
  scale?: boolean;
}

/**
 * Anomaly map at feature resolution (ceil(H/stride)×ceil(W/stride)) of `image`, computed in
 * tiles. Stage milliseconds are added to `timings` (backbone, scale, reference, and the
 * statistic's). Throws one line when the feature map is smaller than one patch.
 */
export async function tiledFeatureMap(
  backbone: HostFeatureExtractor,
  statistic: TileStatistic | FcaEngine,
  image: RgbImage,
  params: FcaParams,
  opts: TiledOptions,
  timings: Record<string, number> = {},
): Promise<ScalarMap> {
  const stat: TileStatistic = "kind" in statistic
    ? statistic
    : { kind: "reference", reference: "median", seed: 0, engine: statistic };
  const s = opts.stride;
  const fh = Math.ceil(image.height / s), fw = Math.ceil(image.width / s);
  checkFeatureSize(fh, fw, params.patch, image);
  let store: FeatureStore | undefined, range: ChannelRange | undefined;
  let t = performance.now(), io = 0;
  try {
    await forEachFeatureTile(backbone, image, opts, async (block, fy, fx) => {
      const t0 = performance.now();
      if (!store) {
        store = await FeatureStore.create(block.channels, fh, fw, opts.tempDir);
        range = new ChannelRange(block.channels, opts.scale === false);
      }
      range!.update(block);
      store.writeBlock(block, fy, fx);
      io += performance.now() - t0;
    });
    timings.backbone = performance.now() - t - io;
    timings.scale = io;
    const read: RectReader = (y0, y1, x0, x1) =>
      range!.scaleInPlace(store!.readRect(y0, y1, x0, x1));
    const fcaTile = opts.fcaTile ?? Math.max(1, Math.floor(opts.tile / s));
    t = performance.now();
    if (stat.kind === "spatial-mean") {
      const C = store!.channels;
      const lo = new Float32Array(C), hi = new Float32Array(C);
      for (let c = 0; c < C; c++) {
        lo[c] = range!.scaleValue(c, range!.lo[c]);
        hi[c] = range!.scaleValue(c, range!.hi[c]);
      }
      const map = await tiledSpatialMeanMap(
        read,
        fh,
        fw,
        C,
        stat.make({ lo, hi }, C, params),
        fcaTile,
      );
      timings.statistics = performance.now() - t;
      return map;
    }
    const reference = stat.reference === "random"
      ? storedRandomReference(read, fh, fw, store!.channels, params.patch, stat.seed)
      : await storedMedianReference(store!, range!, params.patch, opts.tempDir);
    timings.median = performance.now() - t;
    t = performance.now();
    const map = await tiledFcaMap(read, fh, fw, stat.engine, await reference, params, fcaTile);
    timings.fca = performance.now() - t;
    return map;
  } finally {
    store?.close();
  }
}

/** The random reference of the whole map: the tile `randomReference` picks, read from the store. */
async function storedRandomReference(
  read: RectReader,
  height: number,
  width: number,
  channels: number,
  patch: number,
  seed: number,
): Promise<Float32Array> {
  const [y0, x0] = randomReferenceOrigin(height, width, patch, seed);
  const window = await read(y0, y0 + patch, x0, x0 + patch);
  return sortedWindow(window.data, channels, patch, patch, patch, 0, 0);
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
  /** Min-max scale the features (default true; hand-crafted features are used as they are). */
  scale?: boolean;
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
    private readonly statistic: TileStatistic | FcaEngine,
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

  /** How many image tiles {@link CpuTiler.featureMap} cuts `image` into at tile side `tile`. */
  tileCount(image: { width: number; height: number }, tile: number): number {
    const s = this.opts.stride ?? 8;
    return planAxis(image.height, tile, 0, s).length * planAxis(image.width, tile, 0, s).length;
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
    const opts = { tile, stride, halo, tempDir: this.opts.tempDir, scale: this.opts.scale };
    return await tiledFeatureMap(this.backbone, this.statistic, image, params, opts, timings);
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
