/**
 * The feature crop of `--pad` on the device (kernels/crop_features.wgsl): the backbone's output
 * for a reflect-padded image, without its padded border, into a buffer this class owns (reused
 * while the size stays the same). Recorded and submitted on its own; nothing is read back.
 * @module
 */
import { createBuffer } from "./buffers.ts";
import { type CompiledKernel, compileKernel, createBindGroup, dispatchOf } from "./kernels.ts";
import { writeStruct } from "./wgsl_reflect.ts";

/** A feature map on the device. */
export interface DeviceFeatureMap {
  features: GPUBuffer;
  channels: number;
  height: number;
  width: number;
}

/** Crops `cells` feature cells off every side of device feature maps. */
export class GpuCrop {
  #out: GPUBuffer | null = null;
  #dims: GPUBuffer;

  private constructor(
    readonly device: GPUDevice,
    private readonly kernel: CompiledKernel<"crop_features">,
  ) {
    this.#dims = createBuffer(
      device,
      "crop dims",
      32,
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    );
  }

  /** Compile the kernel for `device` (once). */
  static async create(device: GPUDevice): Promise<GpuCrop> {
    return new GpuCrop(device, await compileKernel(device, "crop_features"));
  }

  /**
   * `map` without `cells` cells on each side. The result's buffer is this instance's and is
   * rewritten by the next call; queue order keeps earlier readers of it ahead of that write.
   */
  crop(map: DeviceFeatureMap, cells: number): DeviceFeatureMap {
    const { channels } = map, height = map.height - 2 * cells, width = map.width - 2 * cells;
    if (height < 1 || width < 1) {
      throw new Error(
        `--pad: ${cells} cells cannot be cropped off a ${map.width}x${map.height} map`,
      );
    }
    const bytes = 4 * channels * height * width;
    if (!this.#out || this.#out.size < bytes) {
      this.#out?.destroy();
      this.#out = createBuffer(this.device, "cropped features", bytes);
    }
    const layout = this.kernel.structs.get("CropDims")!;
    const dims = writeStruct(layout, {
      channels,
      height,
      width,
      cells,
      inHeight: map.height,
      inWidth: map.width,
    });
    this.device.queue.writeBuffer(this.#dims, 0, dims);
    const encoder = this.device.createCommandEncoder({ label: "crop features" });
    const pass = encoder.beginComputePass({ label: "crop features" });
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(
      0,
      createBindGroup(this.device, this.kernel, {
        dims: this.#dims,
        src: map.features,
        dst: this.#out,
      }),
    );
    pass.dispatchWorkgroups(...dispatchOf("crop_features", { channels, height, width }));
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    return { features: this.#out, channels, height, width };
  }

  /** Destroy this instance's buffers. */
  dispose(): void {
    this.#out?.destroy();
    this.#dims.destroy();
  }
}
