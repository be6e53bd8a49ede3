/**
 * fca in a page: the CLI's own pipeline (`Detector` on its webgpu backend: the kernels of
 * `kernels/` fetched from the page's origin, the ONNX backbone on onnxruntime-web's WebGPU
 * execution provider, sharing one `GPUDevice`), then the CLI's decision. Images are decoded by
 * the CLI's decoder, so a page and the command line see the same pixels.
 *
 * Detectors are built on first use per distinct pipeline options (at most
 * {@link MAX_DETECTORS}, least recently used dropped) and run one detection at a time.
 * @module
 */
import { SerialQueue } from "../src/base/serial_queue.ts";
import { decide, type Decision } from "../src/decision/decide.ts";
import { acquireGpu, type GpuContext } from "../src/gpu/device.ts";
import { setKernelFolder } from "../src/gpu/kernel_source.ts";
import { decodeImage } from "../src/io/decode.ts";
import type { RgbImage } from "../src/io/types.ts";
import { type Detection, Detector } from "../src/pipeline/detector.ts";
import type { PageModel } from "./model_store.ts";
import { type ResolvedOptions, resolveOptions, type WebDetectOptions } from "./options.ts";

/** Detectors kept for distinct pipeline options (each holds an ONNX session and GPU buffers). */
export const MAX_DETECTORS = 3;

/** Thrown when the browser offers no WebGPU adapter: the page shows its message as it is. */
export class WebGpuMissing extends Error {}

/** The result of one image: the detection, its decision and every stage's milliseconds. */
export interface PageDetection {
  width: number;
  height: number;
  /** The image score (as the CLI's `score`). */
  score: number;
  /** The anomaly map at the image's size, row-major. */
  map: Float32Array;
  /** The decoded image. */
  image: RgbImage;
  /** The detector's output (heatmap, overlay, feature map, working size). */
  detection: Detection;
  /** Threshold, verdict and regions, as the CLI prints them. */
  decision: Decision;
  /** The decision's region mask (1 = region pixel). */
  mask: Uint8Array;
  /** Milliseconds per stage: decode, the detector's stages (each waited for), decide. */
  timings: Record<string, number>;
  /** The options it ran with. */
  options: ResolvedOptions;
}

/**
 * The shared WebGPU device, or {@link WebGpuMissing} with a message saying what to do: no
 * `navigator.gpu` (a browser without WebGPU, or not a secure context), or no adapter.
 */
export async function requireWebGpu(): Promise<GpuContext> {
  const nav = globalThis.navigator as Navigator | undefined;
  const advice = "fca runs on WebGPU: use a current Chrome or Edge (or Safari 26, Firefox 141 on " +
    "Windows), served from https or localhost; or run the command-line tool";
  if (!nav?.gpu) {
    throw new WebGpuMissing(
      `This browser offers no WebGPU${
        globalThis.isSecureContext === false ? " to pages that are not https or localhost" : ""
      }. ${advice}.`,
    );
  }
  const gpu = await acquireGpu();
  if (!gpu) {
    throw new WebGpuMissing(
      `WebGPU is present but offers no adapter (disabled, or the GPU is blocklisted). ${advice}.`,
    );
  }
  return gpu;
}

/** The page's detection engine over one model. */
export class WebEngine {
  #detectors = new Map<string, Promise<Detector>>();
  #queue = new SerialQueue();
  #disposed = false;

  private constructor(
    /** The model every detector runs. */
    readonly model: PageModel,
    /** The adapter, in words. */
    readonly adapter: string,
    /** Options used where a call gives none. */
    readonly defaults: WebDetectOptions,
  ) {}

  /**
   * An engine for `model`, with kernels fetched from `assets` (the folder holding the app's copy
   * of `kernels/`). Builds the detector of `defaults` at once, so that a model or options that do
   * not work are reported now.
   */
  static async create(
    model: PageModel,
    assets: URL,
    defaults: WebDetectOptions = {},
  ): Promise<WebEngine> {
    const gpu = await requireWebGpu();
    setKernelFolder(new URL("kernels/", assets));
    const engine = new WebEngine(model, gpu.description, defaults);
    await engine.detector(resolveOptions(defaults));
    return engine;
  }

  /** The detector of `options`, built on first use. */
  private detector(options: ResolvedOptions): Promise<Detector> {
    const hit = this.#detectors.get(options.key);
    if (hit) {
      // Least recently used last: move to the end.
      this.#detectors.delete(options.key);
      this.#detectors.set(options.key, hit);
      return hit;
    }
    const { patch, sigmaP, sigmaS, ...rest } = options.settings;
    const { model: _m, backend: _b, threads: _t, ...pipeline } = rest;
    const made = Detector.create(
      { ...pipeline, backend: "webgpu", params: { patch, sigmaP, sigmaS } },
      { model: this.model, syncTimings: true },
    );
    this.#detectors.set(options.key, made);
    made.catch(() =>
      this.#detectors.get(options.key) === made && this.#detectors.delete(options.key)
    );
    while (this.#detectors.size > MAX_DETECTORS) {
      const [oldest, dropped] = this.#detectors.entries().next().value!;
      this.#detectors.delete(oldest);
      // Dropped after the detections queued so far (one of them may be using it).
      this.#queue.run(async () => (await dropped.catch(() => undefined))?.dispose());
    }
    return made;
  }

  /**
   * Decode `bytes` (PNG or JPEG) and localise anomalies, then decide as the CLI does. `options`
   * overlay the engine's defaults. Throws one line for bad options or an undecodable image.
   */
  detect(
    bytes: Uint8Array,
    options: WebDetectOptions = {},
    name = "image",
  ): Promise<PageDetection> {
    if (this.#disposed) return Promise.reject(new Error("the engine was disposed"));
    if (!(bytes instanceof Uint8Array)) {
      return Promise.reject(new TypeError("fcaDetect: bytes must be a Uint8Array"));
    }
    let resolved: ResolvedOptions;
    try {
      resolved = resolveOptions({ ...this.defaults, ...options });
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#queue.run(async () => {
      const timings: Record<string, number> = {};
      let t = performance.now();
      const image = decodeImage(bytes, name);
      timings.decode = performance.now() - t;
      const detector = await this.detector(resolved);
      const detection = await detector.detect(image);
      Object.assign(timings, detection.timings);
      t = performance.now();
      const decided = this.decide(detection.map.data, image, resolved.decision);
      timings.decide = performance.now() - t;
      return {
        width: image.width,
        height: image.height,
        score: detection.score,
        map: detection.map.data,
        image,
        detection,
        ...decided,
        timings,
        options: resolved,
      };
    });
  }

  /** The CLI's decision for a map of `image`'s size (explicit threshold, else zero-shot). */
  decide(
    map: Float32Array,
    image: { width: number; height: number },
    opts: ResolvedOptions["decision"],
  ): { decision: Decision; mask: Uint8Array } {
    const { decision, mask } = decide(
      { width: image.width, height: image.height, data: map },
      opts,
    );
    return { decision, mask };
  }

  /** Release every detector (sessions, GPU buffers). */
  async dispose(): Promise<void> {
    this.#disposed = true;
    const all = [...this.#detectors.values()];
    this.#detectors.clear();
    await this.#queue.run(async () => {
      for (const d of all) await (await d.catch(() => undefined))?.dispose();
    });
  }
}
