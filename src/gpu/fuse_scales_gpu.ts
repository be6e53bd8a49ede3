/**
 * The fusion of `--cells 50,80` on the device (kernels/fuse_scales.wgsl; CPU specification:
 * src/fca/fuse_scales.ts): each scale's feature-resolution map is uploaded, resized onto the
 * largest map's grid and accumulated with weight 1/scales, in one submission; the fused map is
 * read back for the upsampling and the heatmap.
 * @module
 */
import { fusionGrid } from "../fca/fuse_scales.ts";
import type { ScalarMap } from "../fca/types.ts";
import { createBuffer, readBack } from "./buffers.ts";
import { type CompiledKernel, compileKernel, createBindGroup, dispatchOf } from "./kernels.ts";
import { packTaps } from "./taps.ts";
import { writeStruct } from "./wgsl_reflect.ts";

/** Averages maps of several scales on the GPU. */
export class GpuScaleFusion {
  private constructor(
    readonly device: GPUDevice,
    private readonly kernel: CompiledKernel<"fuse_scales">,
  ) {}

  /** Compile the kernel for `device` (once). */
  static async create(device: GPUDevice): Promise<GpuScaleFusion> {
    return new GpuScaleFusion(device, await compileKernel(device, "fuse_scales"));
  }

  /** The mean of `maps` on the grid of the largest (equal to `fuseScales`, to float rounding). */
  async fuse(maps: readonly ScalarMap[]): Promise<ScalarMap> {
    if (maps.length === 1) return maps[0];
    const d = this.device;
    const { height: outHeight, width: outWidth } = fusionGrid(maps);
    const count = outHeight * outWidth;
    const dst = createBuffer(d, "fused map", count * 4);
    const read = createBuffer(
      d,
      "fused map read",
      count * 4,
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    );
    const owned: GPUBuffer[] = [dst, read];
    try {
      const layout = this.kernel.structs.get("FuseDims")!;
      const weight = 1 / maps.length;
      const encoder = d.createCommandEncoder({ label: "fuse scales" });
      maps.forEach((m, i) => {
        const dims = createBuffer(
          d,
          "fuse dims",
          32,
          GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        );
        const src = createBuffer(d, "fuse src", m.data.length * 4);
        const taps = createBuffer(d, "fuse taps", (outHeight + outWidth) * 16);
        owned.push(dims, src, taps);
        d.queue.writeBuffer(
          dims,
          0,
          writeStruct(layout, {
            height: m.height,
            width: m.width,
            outHeight,
            outWidth,
            weight,
            first: i === 0 ? 1 : 0,
          }),
        );
        d.queue.writeBuffer(src, 0, new Float32Array(m.data));
        d.queue.writeBuffer(taps, 0, packTaps(m.height, outHeight, m.width, outWidth));
        // One pass per scale: passes run in order, so each adds onto the previous scales' sum.
        const pass = encoder.beginComputePass({ label: `fuse scale ${i}` });
        pass.setPipeline(this.kernel.pipeline);
        pass.setBindGroup(0, createBindGroup(d, this.kernel, { dims, src, taps, dst }));
        pass.dispatchWorkgroups(...dispatchOf("fuse_scales", { count }));
        pass.end();
      });
      encoder.copyBufferToBuffer(dst, 0, read, 0, count * 4);
      d.queue.submit([encoder.finish()]);
      const [data] = await readBack([read], [count * 4]);
      return { height: outHeight, width: outWidth, data: new Float32Array(data) };
    } finally {
      for (const b of owned) b.destroy();
    }
  }
}
