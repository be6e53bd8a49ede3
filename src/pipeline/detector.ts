/**
 * The whole pipeline behind one object, composed as anomalib composes its models: a feature
 * source (`feature_sources.ts`), a map engine (`map_engines.ts`) and a tiler (`tiling/`) that
 * wraps any pair of them, run in one forward ({@link Detector.detect}). Build once (device, ONNX
 * session, pipelines, worker pool), then detect any number of images.
 * @module
 */
import {
  type BackendChoice,
  cellsOf,
  DEFAULT_QFCA_BINS,
  type Design,
  type ImageScoreKind,
  type OptionNaming,
  type PipelineSettings,
  resolveSettings,
  runsOnGpu,
  SCALE_RULE,
  type SettingName,
} from "../design.ts";
import { patchForCells, workingSize } from "../fca/scale_rule.ts";
import type { GpuFeatures } from "../features/backbone_webgpu.ts";
import { imageScoreOf } from "../fca/image_score.ts";
import type { HostFeatureExtractor } from "../features/backbone.ts";
import type { ModelManifest } from "../features/manifest.ts";
import { CpuFca, defaultThreads } from "../fca/fast/mod.ts";
import { CpuQfca } from "../fca/fast/qfca.ts";
import { pcaProject } from "../fca/pca.ts";
import { checkFeatureSize } from "../fca/params.ts";
import { minMaxScale } from "../fca/scale.ts";
import type { FcaParams, ScalarMap } from "../fca/types.ts";
import { resizeBilinear } from "../fca/upsample.ts";
import { bandOnFused, fuseScales } from "../fca/fuse_scales.ts";
import { GpuScaleFusion } from "../gpu/fuse_scales_gpu.ts";
import { chooseBackend } from "../gpu/device.ts";
import { GpuFca, isGpuDesign } from "../gpu/fca_gpu.ts";
import { GpuQfca } from "../gpu/qfca_gpu.ts";
import { colorize, INFERNO_RGBA8 } from "../io/colormap.ts";
import { OVERLAY_ALPHA } from "../io/outputs.ts";
import { resizeImage } from "../io/resize.ts";
import type { RgbImage } from "../io/types.ts";
import {
  type DeviceSource,
  deviceSource,
  hostSource,
  isNeural,
  type LoadedModel,
  loadModel,
  type ModelBytes,
  modelFromBytes,
  paddedDeviceSource,
  paddedHostSource,
} from "./feature_sources.ts";
import {
  cpuStatsEngine,
  fastFcaEngine,
  gpuHostEngine,
  type HostMapEngine,
  tileStatistic,
} from "./map_engines.ts";
import { qfcaEngine, qfcaGpuEngine } from "./qfca_engine.ts";
import { CpuTiler } from "./tiling/tiler.ts";
import { gpuTileFor } from "./tiling/gpu.ts";

export type { BackendChoice, Design };

/** How to build a {@link Detector}. Every field has the paper's default (see `src/design.ts`). */
export interface DetectorOptions {
  /** FCA hyper-parameters (patch 9 or `auto`, σp 3, σs 1). */
  params?: Partial<Omit<FcaParams, "patch"> & { patch: number | "auto" }>;
  /** Preset whose values fill the options not given: `default` (fca's) or `paper`. */
  preset?: PipelineSettings["preset"];
  /** Resize the input to N×N, keep its own size, or `auto` (enlarge small images). */
  size?: "original" | "auto" | number;
  /**
   * `size: "auto"`'s feature cells on the shorter side, one scale per entry ("50,80": the maps
   * of both scales averaged; default preset "50,80", else "50").
   */
  cells?: string | number;
  /** ONNX backbone path; else `FCA_MODEL`, else `models/resnet50v2-stage2.onnx`. */
  model?: string;
  /** Which output of the ONNX model (required when it has several outputs and no manifest
   * entry); only that output is computed. */
  output?: string;
  /** `auto` uses WebGPU on a hardware adapter and the CPU otherwise. */
  backend?: BackendChoice;
  /** CPU threads for the backbone and FCA (default: all cores, at most 8). */
  threads?: number;
  /** Feature extractor F: an ONNX backbone (default) or a hand-crafted one (paper Table 1). */
  features?: Design["features"];
  /** Patch statistics comparison S (default `fca`). */
  stats?: Design["stats"];
  /** Reference selection R (default `median`). */
  reference?: Design["reference"];
  /** Seed of the random reference and random features (default 0). */
  seed?: number;
  /** Tile side in image pixels; 0/absent = tile only when needed. */
  tile?: number;
  /** Reflect-pad the image by N pixels before the backbone (default preset 16, paper 0). */
  pad?: number;
  /** The image score ignores N feature cells along each border (default preset 4, paper 0). */
  scoreBorder?: number;
  /** `relative`: the image score is divided by the map's median (default preset), else `max`. */
  imageScore?: ImageScoreKind;
  /** k of the k-NN reference (default 10). */
  knnK?: number;
  /** Step between k-NN candidate windows (default 1; larger is faster and coarser). */
  knnStride?: number;
  /** Bins of `stats: "qfca"` (default 8). */
  bins?: number;
  /** QFCA+: project the channels on their first K principal components before scaling (0 = off). */
  pca?: number;
}

/** The result for one image. */
export interface Detection {
  /** Anomaly map at the input image's size. */
  map: ScalarMap;
  /**
   * Image anomaly score: the maximum of the map, or (`--score-border B`) of the feature-resolution
   * map without a band of B cells along its borders.
   */
  score: number;
  /** Heatmap (RGBA8, inferno, scaled between the map's min and max) at the input size. */
  heatmap: Uint8Array;
  /**
   * The heatmap blended over the image as interleaved RGB8, when the backend rendered it (the
   * webgpu backend, for images detected at their own size); the overlay output uses it.
   */
  overlay?: Uint8Array;
  /** Anomaly map at feature resolution (before upsampling). */
  featureMap?: ScalarMap;
  /**
   * Set when `score` is not the map's maximum (`--score-border`): evaluation scores images by it
   * instead of by the scored map's maximum.
   */
  imageScore?: number;
  /** Image tiles the features were computed in (1, or absent, when untiled). */
  tiles?: number;
  /**
   * The working size the image was processed at and the patch side used (auto settings); with
   * several scales, the first one's, and every scale in `scales`.
   */
  used?: {
    width: number;
    height: number;
    patch: number;
    scales?: { width: number; height: number; patch: number }[];
  };
  /** Milliseconds per stage. */
  timings: Record<string, number>;
}

/** Settings of a detector from library options (nested `params` flattened, then validated). */
export function detectorSettings(
  opts: DetectorOptions,
  naming: OptionNaming = "option",
): PipelineSettings {
  const { params, ...rest } = opts;
  const given: Partial<Record<SettingName, unknown>> = { ...rest, ...params };
  return resolveSettings(given, naming);
}

const warned = new Set<string>();

/** Print `message` on stderr once per process. */
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.error(message);
}

/** Zero-shot texture anomaly localisation on one backend. */
export class Detector {
  private constructor(
    /** The backend in use. */
    readonly backend: "webgpu" | "cpu",
    /** What computes: the backbone runtime and FCA threads on cpu, the adapter on webgpu. */
    readonly engine: string,
    /** Why this backend: `requested`, `hardware adapter X`, `software adapter X`, ... */
    readonly backendReason: string,
    /** Every setting in use, defaults filled in. */
    readonly settings: PipelineSettings,
    /** The model manifest (with the file's sha256); absent for hand-crafted features. */
    readonly manifest: ModelManifest | undefined,
    private readonly forward: Forward,
    /**
     * CPU threads kept busy while detecting: the main thread on webgpu, every worker on cpu (so a
     * caller can tell how many cores remain for its own work, e.g. image I/O).
     */
    readonly threads: number,
  ) {}

  /** Engine and reason on one line (`engine; reason`), as earlier versions reported it. */
  get adapter(): string {
    return `${this.engine}; ${this.backendReason}`;
  }

  /** The FCA parameters in use (`patch` may be `auto`: see {@link Detector.plan}). */
  get params(): Omit<FcaParams, "patch"> & { patch: number | "auto" } {
    const { patch, sigmaP, sigmaS } = this.settings;
    return { patch, sigmaP, sigmaS };
  }

  /** Input size policy. */
  get size(): "original" | "auto" | number {
    return this.settings.size;
  }

  /**
   * The working sizes and FCA parameters for an image of `width`×`height`, one per scale:
   * `--size` (N×N, the scale rule for `auto` at each of `--cells`, or the image's own size) and
   * `--patch` (`auto`: from the working feature map's shorter side). Scales that come out at the
   * same size (the scale rule's cap) are run once.
   */
  plans(width: number, height: number): ScalePlan[] {
    const { size, patch, sigmaP, sigmaS } = this.settings;
    const stride = this.manifest?.stride ?? 1;
    const sizes: [number, number][] = typeof size === "number"
      ? [[size, size]]
      : size === "auto"
      ? cellsOf(this.settings).map((minCells) =>
        workingSize(height, width, { ...SCALE_RULE, minCells, stride })
      )
      : [[height, width]];
    const plans: ScalePlan[] = [];
    for (const [h, w] of sizes) {
      if (plans.some((p) => p.width === w && p.height === h)) continue;
      const cells = Math.min(Math.ceil(h / stride), Math.ceil(w / stride));
      const T = patch === "auto" ? patchForCells(cells) : patch;
      plans.push({ width: w, height: h, params: { patch: T, sigmaP, sigmaS } });
    }
    return plans;
  }

  /** The design-space point (features, statistics, reference). */
  get design(): Design {
    const { features, stats, reference, seed, knnK, knnStride, bins, pca } = this.settings;
    return { features, stats, reference, seed, knnK, knnStride, bins, pca };
  }

  /** sha256 of the backbone file ("" for hand-crafted features). */
  get modelSha256(): string {
    return this.manifest?.sha256 ?? "";
  }

  /**
   * Build a detector: validates the options, picks the backend, then looks up its feature
   * source, map engine and tiler, compiling everything once. Errors name library options
   * (`params.patch`, `model`); the CLI passes `{ naming: "flag" }` for its flags. `how.model`
   * gives the model's bytes instead of a file (the browser app, which has no file system);
   * `how.syncTimings` makes the webgpu backend wait for the GPU after each stage, so that the
   * timings are each stage's own (the backbone's GPU work otherwise counts in the next stage).
   */
  static async create(
    opts: DetectorOptions = {},
    how: { naming?: OptionNaming; model?: ModelBytes; syncTimings?: boolean } = {},
  ): Promise<Detector> {
    const naming = how.naming ?? "option";
    const settings = detectorSettings(opts, naming);
    const design: Design = settings;
    if (how.model && settings.model !== undefined) {
      throw new Error(`${naming === "flag" ? "--model" : "model:"} and model bytes both given`);
    }
    const model = !isNeural(design)
      ? undefined
      : how.model
      ? await modelFromBytes(how.model, settings.output)
      : await loadModel(design, settings.model, settings.output, naming);
    // k-NN references, aota and --pca run on the CPU only.
    const gpuCapable = runsOnGpu(design);
    if (!gpuCapable && settings.backend === "webgpu") {
      throw new Error(
        settings.pca
          ? `--backend webgpu does not run --pca (QFCA+ is CPU-only); use --backend cpu`
          : `--backend webgpu does not run --reference knn or --stats aota; use --backend cpu`,
      );
    }
    const choice = await chooseBackend(gpuCapable ? settings.backend : "cpu");
    const make = choice.backend === "webgpu" && choice.gpu ? gpuForward : cpuForward;
    const forward = await make(settings, model, choice.gpu?.device, how.syncTimings);
    const reason = gpuCapable
      ? choice.reason
      : `--reference knn / --stats aota / --pca run on the CPU`;
    const threads = choice.gpu ? 1 : settings.threads ?? defaultThreads();
    const engine = choice.gpu
      ? `WebGPU on ${choice.gpu.description}`
      : `${forward.runtime}; FCA on ${threads} CPU thread${threads === 1 ? "" : "s"}`;
    // (Not in a browser: the page has no cpu backend to suggest instead.)
    if (choice.gpu?.isFallback && settings.backend === "webgpu" && typeof Deno !== "undefined") {
      warnOnce(
        `fca: warning: ${naming === "flag" ? "--backend webgpu" : 'backend: "webgpu"'} runs on ` +
          `the software adapter ${choice.gpu.description}, typically 10x slower than the cpu backend`,
      );
    }
    return new Detector(
      choice.gpu ? "webgpu" : "cpu",
      engine,
      reason,
      settings,
      model?.manifest,
      forward,
      threads,
    );
  }

  /**
   * Localise anomalies in one image. The map comes back at the image's own size. With several
   * scales (`--cells 50,80`), each scale's feature-resolution map is computed and they are fused
   * ({@link fuseScales}) before the upsampling, the score and the heatmap.
   */
  async detect(image: RgbImage): Promise<Detection> {
    const timings: Record<string, number> = {};
    const out = { height: image.height, width: image.width };
    const plans = this.plans(image.width, image.height);
    const used = usedOf(plans);
    let det: Detection;
    let band = this.settings.scoreBorder;
    const single = plans.length === 1 ? this.#prepare(image, plans[0], timings) : null;
    if (single && single.tile === 0) {
      // One untiled scale: the backend's whole forward (on webgpu, one device-resident pass).
      det = { ...await this.forward.whole(single.input, out, plans[0].params, timings), used };
    } else {
      // Tiles or several scales: each scale's feature-resolution map, fused, then finished here.
      const maps: ScalarMap[] = [];
      let tiles = 0; // the most tiles any scale needed
      for (const plan of plans) {
        const { input, tile } = single ?? this.#prepare(image, plan, timings);
        const stage: Record<string, number> = {};
        if (tile > 0) {
          maps.push(await this.forward.tiler!.featureMap(input, plan.params, tile, stage));
          tiles = Math.max(tiles, this.forward.tiler!.tileCount(input, tile));
        } else {
          maps.push(await this.forward.featureMap(input, plan.params, stage));
          tiles = Math.max(tiles, 1);
        }
        for (const [k, v] of Object.entries(stage)) timings[k] = (timings[k] ?? 0) + v;
      }
      let map = maps[0];
      if (maps.length > 1) {
        const t = performance.now();
        map = await this.forward.fuse(maps);
        timings.fuse = performance.now() - t;
        // --score-border counts cells of the first scale.
        band = bandOnFused(band, map, maps[0]);
      }
      det = { ...finishOnCpu(map, out, tiles, timings), used };
    }
    // The image score leaves out the border band where the map is least reliable and (relative)
    // is taken against the map's own typical level.
    const { imageScore } = this.settings;
    if ((band > 0 || imageScore === "relative") && det.featureMap) {
      det.score = det.imageScore = imageScoreOf(det.featureMap, band, imageScore);
    }
    return det;
  }

  /** The input resized to `plan`'s working size (its time added to `timings.resize`) and its tile. */
  #prepare(
    image: RgbImage,
    plan: ScalePlan,
    timings: Record<string, number>,
  ): { input: RgbImage; tile: number } {
    let input = image;
    if (image.width !== plan.width || image.height !== plan.height) {
      const t = performance.now();
      input = resizeImage(image, plan.width, plan.height);
      timings.resize = (timings.resize ?? 0) + performance.now() - t;
    }
    return { input, tile: this.forward.tiler?.tileFor(input) ?? 0 };
  }

  /** Release sessions, workers and GPU resources. */
  async dispose(): Promise<void> {
    await this.forward.dispose();
  }
}

/** One working scale of an image: its size and the FCA parameters used there. */
export interface ScalePlan {
  width: number;
  height: number;
  params: FcaParams;
}

/** What `Detection.used` reports for `plans`: the first scale, and every scale when several. */
function usedOf(plans: ScalePlan[]): NonNullable<Detection["used"]> {
  const [first] = plans;
  const used = { width: first.width, height: first.height, patch: first.params.patch };
  if (plans.length === 1) return used;
  return {
    ...used,
    scales: plans.map((p) => ({ width: p.width, height: p.height, patch: p.params.patch })),
  };
}

/** One backend's composition: the untiled forward, the tiler, and what to release. */
interface Forward {
  readonly runtime: string;
  /** Whole-image forward. */
  whole(
    input: RgbImage,
    out: { height: number; width: number },
    params: FcaParams,
    timings: Record<string, number>,
  ): Promise<Detection>;
  /** Whole-image forward up to the feature-resolution map (one scale of several). */
  featureMap(
    input: RgbImage,
    params: FcaParams,
    timings: Record<string, number>,
  ): Promise<ScalarMap>;
  /** The scales' feature-resolution maps fused into one ({@link fuseScales}, on this backend). */
  fuse(maps: ScalarMap[]): Promise<ScalarMap>;
  /** The tiler around this source and engine (absent when the design cannot be tiled). */
  tiler?: Tiler;
  dispose(): Promise<void>;
}

/** A tiler as the detector uses it. */
interface Tiler {
  tileFor(image: RgbImage): number;
  tileCount(image: RgbImage, tile: number): number;
  featureMap(
    image: RgbImage,
    params: FcaParams,
    tile: number,
    timings: Record<string, number>,
  ): Promise<ScalarMap>;
}

/**
 * A tiler around `source` and `engine`, or none when the design cannot be tiled: then an explicit
 * `--tile` is refused in one line, and automatic tiling is off.
 */
function makeTiler(
  settings: PipelineSettings,
  model: LoadedModel | undefined,
  source: HostFeatureExtractor,
  engine: HostMapEngine,
  tileFor?: (image: RgbImage) => number,
): Tiler | undefined {
  const statistic = tileStatistic(settings, engine);
  if (typeof statistic === "string") {
    if (settings.tile > 0) throw new Error(`--tile: ${statistic}`);
    return undefined;
  }
  const tiler = new CpuTiler(source, statistic, {
    tile: settings.tile,
    stride: model?.manifest.stride ?? (isNeural(settings) ? undefined : 1),
    channels: model?.manifest.channels,
    scale: isNeural(settings),
  });
  if (tileFor) tiler.tileFor = tileFor;
  const finish = engine.finishTiled;
  if (finish) {
    const stitched = tiler.featureMap.bind(tiler);
    tiler.featureMap = async (image, params, tile, timings) =>
      finish(await stitched(image, params, tile, timings), params);
  }
  // Hand-crafted features are full-resolution and few-channelled: tiled only when asked.
  if (!isNeural(settings)) tiler.tileFor = () => settings.tile;
  return tiler;
}

/** The cpu backend: host features, the fast exact FCA for the paper's design, else the CPU statistics. */
async function cpuForward(
  settings: PipelineSettings,
  model: LoadedModel | undefined,
): Promise<Forward> {
  const source = paddedHostSource(
    await hostSource(settings, model, settings.threads),
    model ? settings.pad : 0,
    model?.manifest.stride ?? 1,
  );
  const paperDefault = settings.stats === "fca" && settings.reference === "median";
  const engine = paperDefault
    ? fastFcaEngine(await CpuFca.create({ threads: settings.threads }))
    : settings.stats === "qfca"
    ? qfcaEngine(CpuQfca.create({ threads: settings.threads }), settings)
    : cpuStatsEngine(settings);
  return hostForward(settings, model, source, engine, () => source.dispose());
}

/** Features into host memory, then `engine` (the cpu backend; qfca on webgpu). */
function hostForward(
  settings: PipelineSettings,
  model: LoadedModel | undefined,
  source: HostFeatureExtractor,
  engine: HostMapEngine,
  release: () => Promise<void>,
  tileFor?: (image: RgbImage) => number,
): Forward {
  const scale = isNeural(settings);
  const featureMap = async (
    input: RgbImage,
    params: FcaParams,
    timings: Record<string, number>,
  ) => {
    const lap = lapTimer();
    let features = await source.extract(input);
    timings[scale ? "backbone" : "features"] = lap();
    checkFeatureSize(features.height, features.width, params.patch, input);
    if (settings.pca) { // QFCA+ (docs/qfca.md): principal components before scaling
      features = pcaProject(features, settings.pca);
      timings.pca = lap();
    }
    // Neural features are min-max scaled per channel (convention 1); the hand-crafted ones are
    // used as they are, as in the authors' code (principal components are scaled too).
    if (scale || settings.pca) minMaxScale(features);
    timings.scale = lap();
    const map = await engine.featureMap(features, params);
    timings[engine.stage] = lap();
    return map;
  };
  return {
    runtime: source.runtime,
    tiler: makeTiler(settings, model, source, engine, tileFor),
    featureMap,
    fuse: (maps) => Promise.resolve(fuseScales(maps)),
    async whole(input, out, params, timings) {
      return finishOnCpu(await featureMap(input, params, timings), out, 1, timings);
    },
    async dispose() {
      engine.dispose();
      await release();
    },
  };
}

/**
 * The webgpu backend: features stay on the device from the backbone to the final map (scaling,
 * reference, statistic, upsampling, score, colormap and overlay in one submission); tiles read
 * the features back and run the same kernels on host memory.
 */
async function gpuForward(
  settings: PipelineSettings,
  model: LoadedModel | undefined,
  device?: GPUDevice,
  sync = false,
): Promise<Forward> {
  const source: DeviceSource = await paddedDeviceSource(
    device!,
    await deviceSource(device!, settings, model, { sync }),
    model ? settings.pad : 0,
    model?.manifest.stride ?? 1,
  );
  if (settings.stats === "qfca") return await qfcaGpuForward(settings, model, source, device!);
  const fca = await GpuFca.create(device!);
  const neural = isNeural(settings);
  const channels = model?.manifest.channels ?? 512, stride = model?.manifest.stride ?? 8;
  const tileFor = (image: RgbImage) =>
    neural ? gpuTileFor(image, channels, stride, device!.limits, settings.tile) : settings.tile;
  const design = { stats: settings.stats, reference: settings.reference, seed: settings.seed };
  // Only designs that run on the GPU get here (runsOnGpu): no k-NN reference, no aota.
  if (!isGpuDesign(design)) {
    throw new Error(`webgpu: ${design.stats}/${design.reference} is CPU-only`);
  }
  const engine = gpuHostEngine(design, fca);
  const fusion = await GpuScaleFusion.create(device!);
  return {
    runtime: source.runtime,
    tiler: makeTiler(settings, model, source.host, engine, tileFor),
    // One scale of several: the statistic's map at feature resolution, read back for the fusion.
    featureMap: (input, params, timings) =>
      withDeviceFeatures(source, input, params, timings, neural, async (features, lap) => {
        const { height, width } = features;
        const result = await fca.run(
          { ...features, prescaled: !neural },
          params,
          { height, width, colormapLut: INFERNO_RGBA8, keepFeatureMap: true },
          design,
        );
        timings[settings.stats] = lap();
        return { height, width, data: result.featureMap! };
      }),
    fuse: (maps) => fusion.fuse(maps),
    whole: (input, out, params, timings) =>
      withDeviceFeatures(source, input, params, timings, neural, async (features, lap) => {
        // The uploaded input doubles as the overlay's image when it is at the output size.
        // (Not when the backbone saw a padded image.)
        const sameSize = neural && !(settings.pad > 0) && input.height === out.height &&
          input.width === out.width;
        const result = await fca.run(
          { ...features, prescaled: !neural },
          params,
          {
            height: out.height,
            width: out.width,
            colormapLut: INFERNO_RGBA8,
            keepFeatureMap: true,
            ...(sameSize ? { overlay: { image: features.image, alpha: OVERLAY_ALPHA } } : {}),
          },
          design,
        );
        timings[settings.stats] = lap();
        return {
          map: { height: out.height, width: out.width, data: result.map },
          score: result.score,
          heatmap: result.heatmap,
          ...(result.overlayRgb ? { overlay: result.overlayRgb } : {}),
          featureMap: result.featureMap
            ? { height: features.height, width: features.width, data: result.featureMap }
            : undefined,
          tiles: 1,
          timings,
        };
      }),
    async dispose() {
      fca.dispose();
      await source.dispose();
    },
  };
}

/**
 * qfca on the webgpu backend: the backbone's features stay on the device (scaled there, then the
 * qfca kernels, one submission); only the feature-resolution map is read back, then upsampled and
 * coloured on the CPU. Tiles read the features back and run the same kernels on host memory.
 */
async function qfcaGpuForward(
  settings: PipelineSettings,
  model: LoadedModel | undefined,
  source: DeviceSource,
  device: GPUDevice,
): Promise<Forward> {
  const qfca = await GpuQfca.create(device);
  const fusion = await GpuScaleFusion.create(device);
  const engine = qfcaGpuEngine(qfca, settings);
  const neural = isNeural(settings), bins = settings.bins ?? DEFAULT_QFCA_BINS;
  const featureMap = (input: RgbImage, params: FcaParams, timings: Record<string, number>) =>
    withDeviceFeatures(source, input, params, timings, neural, async (features, lap) => {
      // Neural features are min-max scaled (on the device); hand-crafted ones are used as they
      // are, as on the cpu backend.
      const map = await qfca.mapDevice(features.features, features, params, bins, neural);
      timings.qfca = lap();
      return map;
    });
  return {
    runtime: source.runtime,
    tiler: makeTiler(settings, model, source.host, engine),
    featureMap,
    fuse: (maps) => fusion.fuse(maps),
    whole: async (input, out, params, timings) =>
      finishOnCpu(await featureMap(input, params, timings), out, 1, timings),
    async dispose() {
      engine.dispose();
      await source.dispose();
    },
  };
}

/**
 * Run the device source on `input` (its time recorded as the backbone's, or the hand-crafted
 * features'), check the feature map is large enough for the patch, hand the features to `use`
 * with the running lap clock, and release them once `use` has finished with them.
 */
async function withDeviceFeatures<R>(
  source: DeviceSource,
  input: RgbImage,
  params: FcaParams,
  timings: Record<string, number>,
  neural: boolean,
  use: (features: GpuFeatures, lap: () => number) => Promise<R>,
): Promise<R> {
  const lap = lapTimer();
  const features = await source.run(input);
  try {
    Object.assign(timings, features.timings);
    timings[neural ? "backbone" : "features"] = lap();
    checkFeatureSize(features.height, features.width, params.patch, input);
    return await use(features, lap);
  } finally {
    features.release();
  }
}

/** A clock whose every call returns the milliseconds since the previous call (or its creation). */
function lapTimer(): () => number {
  let t = performance.now();
  return () => {
    const now = performance.now(), d = now - t;
    t = now;
    return d;
  };
}

/** Upsample a feature-resolution map to the output size and render its heatmap, on the CPU. */
function finishOnCpu(
  featureMap: ScalarMap,
  out: { height: number; width: number },
  tiles: number,
  timings: Record<string, number>,
): Detection {
  const lap = lapTimer();
  const map = resizeBilinear(featureMap, out.height, out.width);
  timings.upsample = lap();
  let lo = Infinity, hi = -Infinity;
  for (const v of map.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const heatmap = colorize(map.data, lo, hi);
  timings.colormap = lap();
  return { map, score: hi, heatmap, featureMap, tiles, timings };
}
