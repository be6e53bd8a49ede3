/**
 * The backbone on onnxruntime-web's WebGPU execution provider, on our own `GPUDevice`: the image
 * is uploaded once, normalised by `kernels/preprocess.wgsl` into a GPU tensor, and the feature
 * map comes back as a `GPUBuffer` on the same device, with no readback.
 *
 * ORT-in-Deno notes (onnxruntime-web 1.30, entry "onnxruntime-web/webgpu"):
 * - This entry is the C++ WebGPU EP compiled to wasm (the "asyncify" build, not JSEP). It finds
 *   `ort-wasm-simd-threaded.asyncify.wasm` next to its bundle through `import.meta.url` and
 *   `fetch(file://…)`, which Deno supports, so no `env.wasm.wasmPaths` is needed.
 * - `InferenceSession.create(path)` fails in Deno (it fetches the path); pass the model bytes.
 * - The EP option `{name: "webgpu", device}` is enough to share the device; `env.webgpu.device`
 *   is then filled in by ORT itself.
 * - The output buffer comes from ORT's bucketed buffer cache, so `GPUBuffer.size` may exceed
 *   `channels × height × width × 4` (e.g. 131072 bytes for a 512×5×7 map): use the dims.
 * - `storageBufferCacheMode: "disabled"` breaks on Deno ("Buffer … has been destroyed" inside
 *   OrtRun): ORT destroys buffers before the dispatch that uses them is submitted. Keep the default.
 * - Known leak, not ours, on wgpu's Vulkan backend only: there (Mesa lavapipe) every
 *   `session.run` grows the process's native memory by ~5.9 MiB, independent of image size, of
 *   CPU or GPU tensors in and out, of `validationMode`, the buffer cache modes, graph capture,
 *   forced GC and `onSubmittedWorkDone`; `session.release()` does not return it. On wgpu's GL
 *   backend the same loop grows by ~40 KiB per run, and our own kernels by ~20 KiB per run on
 *   both. Unmeasured on a hardware Vulkan driver (bench/stream.ts reports it).
 * - The first run of each new input shape compiles ORT's shaders: seconds on llvmpipe (Mesa's
 *   disk cache makes later processes faster).
 * @module
 */
import * as ort from "../base/npm/onnxruntime_web_webgpu.ts";
import type { RgbImage } from "../io/types.ts";
import type { BackboneSpec } from "./backbone.ts";
import { getPreprocessor, type Preprocessor } from "../gpu/preprocess.ts";

/** A feature map left on the GPU by the backbone. */
export interface GpuFeatures {
  /**
   * `[1, channels, height, width]` float32, channel-major, owned by ORT. It stays valid until
   * {@link GpuFeatures.release}; its `size` may be larger than the map (read only the dims).
   */
  features: GPUBuffer;
  channels: number;
  height: number;
  width: number;
  /**
   * The input image as uploaded: planar RGB `[3, H, W]` f32 in [0, 1], at the size given to
   * {@link WebGpuBackbone.run}. Owned by the backbone and rewritten by its next run.
   */
  image: GPUBuffer;
  /**
   * Hand the buffer back to ORT (`tensor.dispose()`). Call it once the last command reading
   * `features` has been submitted (queue order keeps later ORT writes behind it) and before the
   * next image; an unreleased buffer is never reused, so skipping this grows memory per image.
   */
  release(): void;
  /** Milliseconds per stage: upload, preprocess, backbone (see {@link RunOptions.sync}). */
  timings: Record<string, number>;
}

/** Options of {@link WebGpuBackbone.run}. */
export interface RunOptions {
  /**
   * Wait for the GPU after each stage so the timings measure GPU work; otherwise they measure
   * only the time to record and submit it.
   */
  sync?: boolean;
}

/** Session options shared by every WebGPU session (ORT reads `env.wasm` once, at first init). */
function configureOrt(): void {
  // Every node runs on the GPU: wasm worker threads would only idle (and need a Worker each).
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = "error";
}

/** An ONNX backbone on the WebGPU EP that shares `device` with the FCA kernels. */
export class WebGpuBackbone {
  private rgb: GPUBuffer | undefined;
  private tensor: GPUBuffer | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    /** The device shared with ORT. */
    readonly device: GPUDevice,
    private readonly session: ort.InferenceSession,
    private readonly spec: BackboneSpec,
    private readonly preprocessor: Preprocessor,
  ) {}

  /**
   * Load `modelBytes` (an ONNX file's contents) on the WebGPU EP bound to `device`; `manifest`
   * names the image input and feature output and gives the normalisation.
   */
  static async create(
    device: GPUDevice,
    modelBytes: Uint8Array,
    manifest: BackboneSpec,
  ): Promise<WebGpuBackbone> {
    configureOrt();
    const preprocessor = await getPreprocessor(device);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelBytes, {
        executionProviders: [{ name: "webgpu", device }],
        preferredOutputLocation: "gpu-buffer",
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
      });
    } catch (err) {
      const msg = String(err instanceof Error ? err.message : err).split("\n")[0];
      throw new Error(`backbone_webgpu: cannot load the model on the WebGPU EP (${msg})`);
    }
    for (
      const [kind, name, names] of [
        ["input", manifest.input, session.inputNames],
        ["output", manifest.output, session.outputNames],
      ] as const
    ) {
      if (!names.includes(name)) {
        await session.release();
        throw new Error(
          `backbone_webgpu: ${kind} '${name}' not found in the graph (${kind}s: ${
            names.join(", ")
          })`,
        );
      }
    }
    return new WebGpuBackbone(device, session, manifest, preprocessor);
  }

  /** Features of one image (batch 1); runs are serialised, so concurrent calls queue up. */
  run(image: RgbImage, opts: RunOptions = {}): Promise<GpuFeatures> {
    const next = this.queue.then(() => this.runNow(image, opts));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(image: RgbImage, opts: RunOptions): Promise<GpuFeatures> {
    if (this.disposed) throw new Error("backbone_webgpu: run() after dispose()");
    const { width, height } = image;
    const timings: Record<string, number> = {};
    const settle = async () => {
      if (opts.sync) await this.device.queue.onSubmittedWorkDone();
    };
    let t = performance.now();
    const rgb = this.rgb = this.fit(this.rgb, this.preprocessor.upload(image, this.rgb));
    await settle();
    timings.upload = performance.now() - t;

    t = performance.now();
    const encoder = this.device.createCommandEncoder({ label: "backbone preprocess" });
    this.tensor = this.fit(
      this.tensor,
      this.preprocessor.encode(encoder, this.rgb, width, height, this.spec, this.tensor),
    );
    this.device.queue.submit([encoder.finish()]);
    await settle();
    timings.preprocess = performance.now() - t;

    t = performance.now();
    const input = ort.Tensor.fromGpuBuffer(this.tensor, {
      dataType: "float32",
      dims: [1, 3, height, width],
    });
    const outputs = await this.session.run({ [this.spec.input]: input }, [this.spec.output]);
    const out = outputs[this.spec.output];
    for (const [name, other] of Object.entries(outputs)) {
      if (name !== this.spec.output) other.dispose();
    }
    await settle();
    timings.backbone = performance.now() - t;

    const dims = out.dims;
    if (
      out.location !== "gpu-buffer" || out.type !== "float32" || dims.length !== 4 || dims[0] !== 1
    ) {
      out.dispose();
      throw new Error(
        `backbone_webgpu: output '${this.spec.output}' is ${out.type} [${dims}] on ${out.location}, expected float32 [1,C,h,w] on gpu-buffer`,
      );
    }
    let released = false;
    return {
      features: out.gpuBuffer as GPUBuffer,
      image: rgb,
      channels: dims[1],
      height: dims[2],
      width: dims[3],
      release() {
        if (!released) out.dispose();
        released = true;
      },
      timings,
    };
  }

  /** Keep `next` as the cached buffer, destroying the one it replaced (if any). */
  private fit(old: GPUBuffer | undefined, next: GPUBuffer): GPUBuffer {
    if (old !== undefined && old !== next) old.destroy();
    return next;
  }

  /** Release the session and the cached input buffers. Features not yet released become invalid. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    await this.session.release();
    this.rgb?.destroy();
    this.tensor?.destroy();
    this.rgb = this.tensor = undefined;
  }
}
