/**
 * The whole FCA pipeline behind one object: build once (device, ONNX session, pipelines, worker
 * pool), then `detect()` any number of images.
 * @module
 */
import type { FcaParams, FeatureMap, ScalarMap } from "../fca/types.ts";
import { DEFAULT_FCA_PARAMS } from "../fca/types.ts";
import { validateParams } from "../fca/params.ts";
import type { RgbImage } from "../io/types.ts";
import { resizeImage } from "../io/resize.ts";
import { colorize, INFERNO_RGBA8 } from "../io/colormap.ts";
import { createCpuBackbone } from "../features/backbone_cpu.ts";
import type { BackboneSpec } from "../features/backbone.ts";
import { loadManifestFor, type ModelManifest } from "../features/manifest.ts";
import { resolveModelPath } from "../features/model_path.ts";
import { minMaxScale } from "../fca/scale.ts";
import { resizeBilinear } from "../fca/upsample.ts";
import { CpuFca, defaultThreads } from "../fca/fast/mod.ts";
import { chooseBackend } from "../gpu/device.ts";
import { WebGpuBackbone } from "../features/backbone_webgpu.ts";
import { GpuFca } from "../gpu/fca_gpu.ts";
import { GpuStats } from "../gpu/stats_gpu.ts";
import { randomReference } from "../fca/references.ts";
import {
  anomalyMapCpu,
  type ReferenceKind,
  type StatsKind,
  validateDesign,
} from "../fca/stats/mod.ts";
import { handcraftedFeatures, type HandcraftedKind } from "../features/handcrafted.ts";
import { CpuTiler } from "./tiling/tiler.ts";
import { OVERLAY_ALPHA } from "../io/outputs.ts";
import { gpuFcaEngine, gpuTileFor, hostFeatureExtractor } from "./tiling/gpu.ts";

/** Which backend runs the pipeline. */
export type BackendChoice = "auto" | "webgpu" | "cpu";

/** How to build a {@link Detector}. Every field has the paper's default. */
export interface DetectorOptions {
  /** FCA hyper-parameters (patch 9, σp 3, σs 1). */
  params?: Partial<FcaParams>;
  /** Resize the input to N×N before feature extraction, or keep its own size. */
  size?: "original" | number;
  /** ONNX backbone path; else `FCA_MODEL`, else `models/resnet50v2-stage2.onnx`. */
  model?: string;
  /** `auto` uses WebGPU on a hardware adapter and the CPU otherwise. */
  backend?: BackendChoice;
  /** CPU threads for the backbone and FCA (default: all cores, at most 8). */
  threads?: number;
  /** Feature extractor F: an ONNX backbone (default) or a hand-crafted one (paper Table 1). */
  features?: FeatureKind;
  /** Patch statistics comparison S (default `fca`). */
  stats?: StatsKind;
  /** Reference selection R (default `median`). */
  reference?: ReferenceKind;
  /** Seed of the random reference and random features (default 0). */
  seed?: number;
  /** CPU: tile side in image pixels for large images; 0/absent = tile only when needed. */
  tile?: number;
  /** k of the k-NN reference (default 10). */
  knnK?: number;
  /** Step between k-NN candidate windows (default 1; larger is faster and coarser). */
  knnStride?: number;
}

/** Feature extractors: `onnx` = the model (`--model`), `vgg` = the VGG19 first block. */
export type FeatureKind = "onnx" | "vgg" | HandcraftedKind;

/** Every feature choice, for CLI validation. */
export const FEATURE_KINDS: readonly FeatureKind[] = ["onnx", "vgg", "colors", "random", "laws"];

/** The design-space point in use (paper Eq. 1). */
export interface Design {
  features: FeatureKind;
  stats: StatsKind;
  reference: ReferenceKind;
  seed: number;
  knnK?: number;
  knnStride?: number;
}

/** The result for one image. */
export interface Detection {
  /** Anomaly map at the input image's size. */
  map: ScalarMap;
  /** Image anomaly score: the maximum of the map. */
  score: number;
  /** Heatmap (RGBA8, inferno, scaled between the map's min and max) at the input size. */
  heatmap: Uint8Array;
  /**
   * The heatmap blended over the image as interleaved RGB8, when the backend rendered it (the
   * webgpu backend, for images detected at their own size); the overlay output uses it.
   */
  overlay?: Uint8Array;
  /** FCA map at feature resolution (before upsampling). */
  featureMap?: ScalarMap;
  /** Milliseconds per stage. */
  timings: Record<string, number>;
}

/** Zero-shot texture anomaly localisation with FCA on one backend. */
export class Detector {
  private constructor(
    /** The backend in use. */
    readonly backend: "webgpu" | "cpu",
    /** Human-readable adapter / runtime description (and why this backend was chosen). */
    readonly adapter: string,
    /** The parameters in use. */
    readonly params: FcaParams,
    /** Input size policy. */
    readonly size: "original" | number,
    /** The model manifest (with the file's sha256); absent for hand-crafted features. */
    readonly manifest: ModelManifest | undefined,
    /** The design-space point (features, statistics, reference). */
    readonly design: Design,
    private readonly impl: DetectorImpl,
    /**
     * CPU threads kept busy while detecting: the main thread on webgpu, every worker on cpu (so a
     * caller can tell how many cores remain for its own work, e.g. image I/O).
     */
    readonly threads: number,
  ) {}

  /** sha256 of the backbone file ("" for hand-crafted features). */
  get modelSha256(): string {
    return this.manifest?.sha256 ?? "";
  }

  /** Build a detector: resolves the model, picks the backend, compiles everything once. */
  static async create(opts: DetectorOptions = {}): Promise<Detector> {
    const params: FcaParams = { ...DEFAULT_FCA_PARAMS, ...opts.params };
    validateParams(params);
    const size = opts.size ?? "original";
    if (size !== "original" && (!Number.isInteger(size) || size < 8)) {
      throw new Error(`--size must be 'original' or an integer >= 8, got ${size}`);
    }
    const design: Design = {
      features: opts.features ?? "onnx",
      stats: opts.stats ?? "fca",
      reference: opts.reference ?? "median",
      seed: opts.seed ?? 0,
      knnK: opts.knnK,
      knnStride: opts.knnStride,
    };
    if (!FEATURE_KINDS.includes(design.features)) {
      throw new Error(
        `--features must be one of ${FEATURE_KINDS.join(", ")}, got '${design.features}'`,
      );
    }
    validateDesign(design.stats, design.reference);
    const neural = design.features === "onnx" || design.features === "vgg";
    const paperDefault = neural && design.stats === "fca" && design.reference === "median";

    let manifest: ModelManifest | undefined, spec: BackboneSpec | undefined;
    let modelBytes: Uint8Array | undefined, modelName: string = design.features;
    if (neural) {
      const modelPath = design.features === "vgg"
        ? resolveVggPath(opts.model)
        : resolveModelPath(opts.model);
      manifest = await loadManifestFor(modelPath);
      modelBytes = await Deno.readFile(modelPath);
      modelName = modelPath.split(/[\\/]/).pop() ?? modelPath;
      spec = {
        input: manifest.input,
        output: manifest.output,
        mean: manifest.normalisation.mean,
        std: manifest.normalisation.std,
      };
    }
    // k-NN references and Aota's statistics run on the CPU only (heavy by nature).
    const gpuCapable = design.reference !== "knn" && design.stats !== "aota";
    const requested = gpuCapable ? opts.backend ?? "auto" : "cpu";
    if (!gpuCapable && opts.backend === "webgpu") {
      throw new Error(
        `--backend webgpu does not run --reference knn or --stats aota; use --backend cpu`,
      );
    }
    const choice = await chooseBackend(requested);
    if (choice.backend === "webgpu" && choice.gpu && !paperDefault) {
      // The design space on the GPU: features (GPU backbone, read back, or hand-crafted on the
      // CPU), scaling and the reference on the CPU, the statistics on the GPU.
      const gpu = choice.gpu;
      const backbone = neural
        ? await WebGpuBackbone.create(gpu.device, modelBytes!, spec!)
        : undefined;
      const source = backbone
        ? hostFeatureExtractor(backbone)
        : handcraftedSource(design.features as HandcraftedKind, design.seed);
      const impl = new GpuDesignImpl(
        source,
        backbone,
        await GpuFca.create(gpu.device),
        await GpuStats.create(gpu.device),
        design,
        neural,
      );
      return new Detector("webgpu", choice.reason, params, size, manifest, design, impl, 1);
    }
    if (choice.backend === "webgpu" && choice.gpu) {
      const gpu = choice.gpu;
      const backbone = await WebGpuBackbone.create(gpu.device, modelBytes!, spec!);
      const fca = await GpuFca.create(gpu.device);
      const tiler = new CpuTiler(hostFeatureExtractor(backbone), gpuFcaEngine(fca), {
        stride: manifest?.stride,
        channels: manifest?.channels,
      });
      const channels = manifest?.channels ?? 512, stride = manifest?.stride ?? 8;
      const tileFor = (image: RgbImage) =>
        gpuTileFor(image, channels, stride, gpu.device.limits, opts.tile ?? 0);
      const impl = new GpuImpl(backbone, fca, tiler, tileFor);
      // The reason usually names the adapter already ("hardware adapter X").
      const adapter = choice.reason.includes(gpu.description)
        ? choice.reason
        : `${gpu.description}; ${choice.reason}`;
      return new Detector("webgpu", adapter, params, size, manifest, design, impl, 1);
    }
    const source: FeatureSource = neural
      ? await createCpuBackbone(modelBytes!, spec!, { threads: opts.threads, modelName })
      : handcraftedSource(design.features as HandcraftedKind, design.seed);
    const fca = paperDefault ? await CpuFca.create({ threads: opts.threads }) : undefined;
    const reason = gpuCapable ? choice.reason : `--reference knn / --stats aota run on the CPU`;
    const tiler = fca
      ? new CpuTiler(source, fca, {
        tile: opts.tile,
        stride: manifest?.stride,
        channels: manifest?.channels,
      })
      : undefined;
    const impl = new CpuImpl(source, fca, design, neural, tiler);
    return new Detector(
      "cpu",
      `${source.runtime}; ${reason}`,
      params,
      size,
      manifest,
      design,
      impl,
      opts.threads ?? defaultThreads(),
    );
  }

  /** Localise anomalies in one image. The map comes back at the image's own size. */
  async detect(image: RgbImage): Promise<Detection> {
    const timings: Record<string, number> = {};
    const t = performance.now();
    let input = image;
    if (this.size !== "original" && (image.width !== this.size || image.height !== this.size)) {
      input = resizeImage(image, this.size, this.size);
      timings.resize = performance.now() - t;
    }
    return await this.impl.detect(input, image.height, image.width, this.params, timings);
  }

  /** Release sessions, workers and GPU resources. */
  async dispose(): Promise<void> {
    await this.impl.dispose();
  }
}

interface DetectorImpl {
  detect(
    input: RgbImage,
    outHeight: number,
    outWidth: number,
    params: FcaParams,
    timings: Record<string, number>,
  ): Promise<Detection>;
  dispose(): Promise<void>;
}

/** Throws one line when a feature map cannot hold a single T×T patch. */
export function checkFeatureSize(h: number, w: number, params: FcaParams, image: RgbImage): void {
  if (h < params.patch || w < params.patch) {
    throw new Error(
      `image ${image.width}x${image.height} gives a ${w}x${h} feature map, smaller than one ${params.patch}x${params.patch} patch: use a larger image, --size, or a smaller --patch`,
    );
  }
}

/** Where the CPU path gets its features from. */
interface FeatureSource {
  readonly runtime: string;
  extract(image: RgbImage): Promise<FeatureMap>;
  dispose(): Promise<void>;
}

function handcraftedSource(kind: HandcraftedKind, seed: number): FeatureSource {
  return {
    runtime: `hand-crafted ${kind} features`,
    extract: (image) => Promise.resolve(handcraftedFeatures(kind, image, seed)),
    dispose: () => Promise.resolve(),
  };
}

/** `--features vgg`: `--model`, then `$FCA_VGG_MODEL`, then `models/vgg19norm-conv1_2.onnx`. */
function resolveVggPath(option?: string): string {
  const path = option ?? Deno.env.get("FCA_VGG_MODEL") ??
    new URL("../../models/vgg19norm-conv1_2.onnx", import.meta.url).pathname;
  try {
    Deno.statSync(path);
  } catch {
    throw new Error(
      `VGG model ${path} not found: pass --model PATH or set FCA_VGG_MODEL (e.g. ../shared/models/vgg19norm-conv1_2.onnx)`,
    );
  }
  return path;
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
  outHeight: number,
  outWidth: number,
  timings: Record<string, number>,
): Detection {
  const lap = lapTimer();
  const map = resizeBilinear(featureMap, outHeight, outWidth);
  timings.upsample = lap();
  let lo = Infinity, hi = -Infinity;
  for (const v of map.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const heatmap = colorize(map.data, lo, hi);
  timings.colormap = lap();
  return { map, score: hi, heatmap, featureMap, timings };
}

class CpuImpl implements DetectorImpl {
  constructor(
    private source: FeatureSource,
    private fca: CpuFca | undefined,
    private design: Design,
    private scaleFeatures: boolean,
    private tiler?: CpuTiler,
  ) {}

  async detect(
    input: RgbImage,
    outHeight: number,
    outWidth: number,
    params: FcaParams,
    timings: Record<string, number>,
  ): Promise<Detection> {
    const lap = lapTimer();
    const tile = this.tiler?.tileFor(input) ?? 0;
    let featureMap: ScalarMap;
    if (tile > 0) {
      // Large images (or --tile): memory proportional to the tile, same map (tiled.ts).
      featureMap = await this.tiler!.featureMap(input, params, tile, timings);
    } else {
      const features = await this.source.extract(input);
      timings[this.scaleFeatures ? "backbone" : "features"] = lap();
      checkFeatureSize(features.height, features.width, params, input);
      // Neural features are min-max scaled per channel (the reference's NeuralExtractor); the
      // hand-crafted ones are used as they are, as in the authors' code.
      if (this.scaleFeatures) minMaxScale(features);
      timings.scale = lap();
      featureMap = this.fca
        ? await this.fca.fcaMap(features, params)
        : anomalyMapCpu(features, { ...this.design, params });
      timings[this.fca ? "fca" : this.design.stats] = lap();
    }
    return finishOnCpu(featureMap, outHeight, outWidth, timings);
  }

  async dispose(): Promise<void> {
    this.fca?.dispose();
    await this.source.dispose();
  }
}

/** The design space on the WebGPU backend (everything but k-NN references and Aota). */
class GpuDesignImpl implements DetectorImpl {
  constructor(
    private source: FeatureSource,
    private backbone: WebGpuBackbone | undefined,
    private fca: GpuFca,
    private stats: GpuStats,
    private design: Design,
    private scaleFeatures: boolean,
  ) {}

  async detect(
    input: RgbImage,
    outHeight: number,
    outWidth: number,
    params: FcaParams,
    timings: Record<string, number>,
  ): Promise<Detection> {
    const lap = lapTimer();
    const features = await this.source.extract(input);
    timings[this.scaleFeatures ? "backbone" : "features"] = lap();
    checkFeatureSize(features.height, features.width, params, input);
    if (this.scaleFeatures) minMaxScale(features);
    timings.scale = lap();
    const { stats, reference } = this.design;
    let featureMap: ScalarMap;
    if (stats === "fca" || stats === "sww") {
      const ref = reference === "random"
        ? randomReference(features, params.patch, this.design.seed)
        : await this.fca.medianReference(features, params.patch);
      timings.reference = lap();
      featureMap = stats === "fca"
        ? await this.fca.fcaMap(features, params, { reference: ref })
        : await this.stats.map(features, { stats, params, reference: ref });
    } else {
      featureMap = await this.stats.map(features, { stats: stats as "hist" | "moments", params });
    }
    timings[stats] = lap();
    return finishOnCpu(featureMap, outHeight, outWidth, timings);
  }

  async dispose(): Promise<void> {
    this.stats.dispose();
    this.fca.dispose();
    await this.backbone?.dispose();
  }
}

class GpuImpl implements DetectorImpl {
  constructor(
    private backbone: WebGpuBackbone,
    private fca: GpuFca,
    private tiler: CpuTiler,
    private tileFor: (image: RgbImage) => number,
  ) {}

  async detect(
    input: RgbImage,
    outHeight: number,
    outWidth: number,
    params: FcaParams,
    timings: Record<string, number>,
  ): Promise<Detection> {
    const tile = this.tileFor(input);
    if (tile > 0) {
      // Too large for the device's buffers (or --tile): GPU tiles, disk-backed features.
      const featureMap = await this.tiler.featureMap(input, params, tile, timings);
      return finishOnCpu(featureMap, outHeight, outWidth, timings);
    }
    const lap = lapTimer();
    const features = await this.backbone.run(input);
    try {
      Object.assign(timings, features.timings);
      timings.backbone = lap();
      checkFeatureSize(features.height, features.width, params, input);
      lap();
      // The uploaded input doubles as the overlay's image when it is at the output size.
      const sameSize = input.height === outHeight && input.width === outWidth;
      const out = await this.fca.run(features, params, {
        height: outHeight,
        width: outWidth,
        colormapLut: INFERNO_RGBA8,
        keepFeatureMap: true,
        ...(sameSize ? { overlay: { image: features.image, alpha: OVERLAY_ALPHA } } : {}),
      });
      timings.fca = lap();
      const featureMap = out.featureMap
        ? { height: features.height, width: features.width, data: out.featureMap }
        : undefined;
      return {
        map: { height: outHeight, width: outWidth, data: out.map },
        score: out.score,
        heatmap: out.heatmap,
        ...(out.overlayRgb ? { overlay: out.overlayRgb } : {}),
        featureMap,
        timings,
      };
    } finally {
      features.release();
    }
  }

  async dispose(): Promise<void> {
    this.fca.dispose();
    await this.backbone.dispose();
  }
}
