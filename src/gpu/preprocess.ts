/**
 * Image upload and normalisation on the GPU (`kernels/preprocess.wgsl`): planar RGB in [0,1]
 * becomes the `[1,3,H,W]` float32 input tensor of the backbone, ready for
 * `ort.Tensor.fromGpuBuffer(buffer, {dataType: "float32", dims: [1, 3, H, W]})`.
 * @module
 */
import type { RgbImage } from "../io/types.ts";
import { type CompiledKernel, compileKernel, createBindGroup, dispatchOf } from "./kernels.ts";
import { type StructLayout, writeStruct } from "./wgsl_reflect.ts";

/** Per-channel normalisation: `(rgb - mean) / std`. */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * Usage of buffers handed to onnxruntime-web as tensors (it may bind, copy in or copy out):
 * STORAGE | COPY_SRC | COPY_DST, spelled as numbers so importing this module needs no WebGPU.
 */
export const TENSOR_USAGE: GPUBufferUsageFlags = 0x80 | 0x04 | 0x08;

/** The compiled preprocessing pipeline of one device (built once, see {@link getPreprocessor}). */
export class Preprocessor {
  /** Immutable uniform buffers by parameter key: Deno's WebGPU leaks a few KiB per created
   * (mapped) buffer or writeBuffer, so one image size after another must not make new ones. */
  private readonly params = new Map<string, GPUBuffer>();

  private constructor(
    private readonly device: GPUDevice,
    private readonly kernel: CompiledKernel<"preprocess">,
    /** The `Params` uniform as the WGSL lays it out. */
    private readonly layout: StructLayout,
  ) {}

  /** Compile the kernel for `device`; use {@link getPreprocessor} to share one per device. */
  static async create(device: GPUDevice): Promise<Preprocessor> {
    const kernel = await compileKernel(device, "preprocess");
    const layout = kernel.structs.get("Params");
    if (!layout) throw new Error(`kernels/preprocess.wgsl: no struct Params`);
    return new Preprocessor(device, kernel, layout);
  }

  /**
   * Copy an image's planar RGB to a GPU storage buffer (reusing `into` when it is big enough).
   * The caller owns the returned buffer.
   */
  upload(image: RgbImage, into?: GPUBuffer): GPUBuffer {
    const bytes = 3 * image.width * image.height * 4;
    if (image.data.length * 4 < bytes) {
      throw new Error(
        `preprocess: image data holds ${image.data.length} values, expected 3×${image.height}×${image.width}`,
      );
    }
    const buffer = into !== undefined && into.size >= bytes
      ? into
      : this.device.createBuffer({ label: "image rgb", size: bytes, usage: TENSOR_USAGE });
    this.device.queue.writeBuffer(buffer, 0, image.data as Float32Array<ArrayBuffer>, 0, bytes / 4);
    return buffer;
  }

  /**
   * Record the normalisation of `rgb` (`[3,H,W]`) into `encoder`, writing `out` (allocated when
   * absent or too small; owned by the caller). Returns the tensor buffer.
   */
  encode(
    encoder: GPUCommandEncoder,
    rgb: GPUBuffer,
    width: number,
    height: number,
    norm: Normalization,
    out?: GPUBuffer,
  ): GPUBuffer {
    const bytes = 3 * width * height * 4;
    if (rgb.size < bytes) {
      throw new Error(`preprocess: image buffer smaller than 3×${height}×${width}`);
    }
    const target = out !== undefined && out.size >= bytes
      ? out
      : this.device.createBuffer({ label: "backbone input", size: bytes, usage: TENSOR_USAGE });
    const params = this.paramsBuffer(width, height, norm);
    const bindGroup = createBindGroup(this.device, this.kernel, {
      params,
      rgb: { buffer: rgb, size: bytes },
      out: { buffer: target, size: bytes },
    });
    const pass = encoder.beginComputePass({ label: "preprocess" });
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...dispatchOf("preprocess", { height, width }));
    pass.end();
    return target;
  }

  private paramsBuffer(width: number, height: number, norm: Normalization): GPUBuffer {
    const mean = [...channels3(norm.mean, "mean"), 0];
    const stddev = [...channels3(norm.std, "std"), 1];
    const key = `${width}x${height}:${mean.join(",")}:${stddev.join(",")}`;
    const hit = this.params.get(key);
    if (hit !== undefined) return hit;
    // Never rewritten once made, so encodes of different images before one submit stay correct.
    const buffer = this.device.createBuffer({
      label: "preprocess params",
      size: this.layout.size,
      usage: 0x40, // UNIFORM
      mappedAtCreation: true,
    });
    writeStruct(this.layout, { width, height, mean, stddev }, buffer.getMappedRange());
    buffer.unmap();
    if (this.params.size >= MAX_PARAM_BUFFERS) {
      // Dropped, not destroyed: a recorded but unsubmitted pass may still bind it.
      this.params.delete(this.params.keys().next().value!);
    }
    this.params.set(key, buffer);
    return buffer;
  }
}

const MAX_PARAM_BUFFERS = 16;

function channels3(values: readonly number[], what: string): number[] {
  if (values.length !== 3 || values.some((v) => !Number.isFinite(v))) {
    throw new Error(`preprocess: normalisation ${what} must be 3 finite numbers, got [${values}]`);
  }
  if (what === "std" && values.some((v) => v === 0)) {
    throw new Error(`preprocess: normalisation std must be non-zero, got [${values}]`);
  }
  return [...values];
}

const perDevice = new WeakMap<GPUDevice, Promise<Preprocessor>>();

/** The preprocessing pipeline of `device`, compiled on first use and shared afterwards. */
export function getPreprocessor(device: GPUDevice): Promise<Preprocessor> {
  let hit = perDevice.get(device);
  if (hit === undefined) {
    hit = Preprocessor.create(device);
    perDevice.set(device, hit);
    // A failed build is not cached, so the next caller sees the error again rather than a stale one.
    hit.catch(() => perDevice.delete(device));
  }
  return hit;
}
