/**
 * The whole FCA pipeline behind one object: build once (device, ONNX session, pipelines, worker
 * pool), then `detect()` any number of images.
 * @module
 */
import type { FcaParams, ScalarMap } from "../fca/types.ts";
import { DEFAULT_FCA_PARAMS } from "../fca/types.ts";
import { validateParams } from "../fca/params.ts";
import type { RgbImage } from "../io/types.ts";
import { resizeImage } from "../io/resize.ts";
import { colorize, INFERNO_RGBA8 } from "../io/colormap.ts";
import { createCpuBackbone } from "../features/backbone_cpu.ts";
import type { BackboneSpec, CpuBackbone } from "../features/backbone.ts";
import { loadManifestFor, type ModelManifest } from "../features/manifest.ts";
import { resolveModelPath } from "../features/model_path.ts";
import { minMaxScale } from "../fca/scale.ts";
import { resizeBilinear } from "../fca/upsample.ts";
import { CpuFca } from "../fca/fast/mod.ts";
import { chooseBackend } from "../gpu/device.ts";
import { WebGpuBackbone } from "../features/backbone_webgpu.ts";
import { GpuFca } from "../gpu/fca_gpu.ts";

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
}

/** The result for one image. */
export interface Detection {
  /** Anomaly map at the input image's size. */
  map: ScalarMap;
  /** Image anomaly score: the maximum of the map. */
  score: number;
  /** Heatmap (RGBA8, inferno, scaled between the map's min and max) at the input size. */
  heatmap: Uint8Array;
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
    /** The model manifest, including the file's sha256. */
    readonly manifest: ModelManifest,
    private readonly impl: DetectorImpl,
  ) {}

  /** sha256 of the backbone file. */
  get modelSha256(): string {
    return this.manifest.sha256 ?? "";
  }

  /** Build a detector: resolves the model, picks the backend, compiles everything once. */
  static async create(opts: DetectorOptions = {}): Promise<Detector> {
    const params: FcaParams = { ...DEFAULT_FCA_PARAMS, ...opts.params };
    validateParams(params);
    const size = opts.size ?? "original";
    if (size !== "original" && (!Number.isInteger(size) || size < 8)) {
      throw new Error(`--size must be 'original' or an integer >= 8, got ${size}`);
    }
    const modelPath = resolveModelPath(opts.model);
    const manifest = await loadManifestFor(modelPath);
    const modelBytes = await Deno.readFile(modelPath);
    const spec: BackboneSpec = {
      input: manifest.input,
      output: manifest.output,
      mean: manifest.normalisation.mean,
      std: manifest.normalisation.std,
    };
    const modelName = modelPath.split(/[\\/]/).pop() ?? modelPath;
    const choice = await chooseBackend(opts.backend ?? "auto");
    if (choice.backend === "webgpu" && choice.gpu) {
      const gpu = choice.gpu;
      const backbone = await WebGpuBackbone.create(gpu.device, modelBytes, spec);
      const fca = await GpuFca.create(gpu.device);
      const impl = new GpuImpl(backbone, fca);
      const adapter = `${gpu.description}; ${choice.reason}`;
      return new Detector("webgpu", adapter, params, size, manifest, impl);
    }
    const backbone = await createCpuBackbone(modelBytes, spec, { threads: opts.threads, modelName });
    const fca = await CpuFca.create({ threads: opts.threads });
    const reason = `${backbone.runtime}; ${choice.reason}`;
    return new Detector("cpu", reason, params, size, manifest, new CpuImpl(backbone, fca));
  }

  /** Localise anomalies in one image. The map comes back at the image's own size. */
  async detect(image: RgbImage): Promise<Detection> {
    const timings: Record<string, number> = {};
    let t = performance.now();
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

class CpuImpl implements DetectorImpl {
  constructor(private backbone: CpuBackbone, private fca: CpuFca) {}

  async detect(
    input: RgbImage,
    outHeight: number,
    outWidth: number,
    params: FcaParams,
    timings: Record<string, number>,
  ): Promise<Detection> {
    let t = performance.now();
    const features = await this.backbone.extract(input);
    timings.backbone = lap();
    checkFeatureSize(features.height, features.width, params, input);
    minMaxScale(features);
    timings.scale = lap();
    const featureMap = await this.fca.fcaMap(features, params);
    timings.fca = lap();
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

    function lap(): number {
      const now = performance.now(), d = now - t;
      t = now;
      return d;
    }
  }

  async dispose(): Promise<void> {
    this.fca.dispose();
    await this.backbone.dispose();
  }
}

class GpuImpl implements DetectorImpl {
  constructor(private backbone: WebGpuBackbone, private fca: GpuFca) {}

  async detect(
    input: RgbImage,
    outHeight: number,
    outWidth: number,
    params: FcaParams,
    timings: Record<string, number>,
  ): Promise<Detection> {
    let t = performance.now();
    const features = await this.backbone.run(input);
    try {
      Object.assign(timings, features.timings);
      timings.backbone = performance.now() - t;
      checkFeatureSize(features.height, features.width, params, input);
      t = performance.now();
      const out = await this.fca.run(features, params, {
        height: outHeight,
        width: outWidth,
        colormapLut: INFERNO_RGBA8,
        keepFeatureMap: true,
      });
      timings.fca = performance.now() - t;
      const featureMap = out.featureMap
        ? { height: features.height, width: features.width, data: out.featureMap }
        : undefined;
      return {
        map: { height: outHeight, width: outWidth, data: out.map },
        score: out.score,
        heatmap: out.heatmap,
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
