/**
 * The WebGPU backend's tiled path: the tiling of `tiled.ts` (disk-backed features, global scaling
 * and median, exact FCA tiles) with the backbone and the FCA tiles on the GPU. Used when an image
 * is too large for the device's buffer limits, or when `--tile` asks for it.
 * @module
 */
import type { HostFeatureExtractor } from "../../features/backbone.ts";
import type { WebGpuBackbone } from "../../features/backbone_webgpu.ts";
import type { GpuFca } from "../../gpu/fca_gpu.ts";
import { createBuffer, readBack } from "../../gpu/buffers.ts";
import type { FcaEngine } from "./fca.ts";
import { autoTileSize } from "./plan.ts";

/** The WebGPU backbone as an extractor into host memory (one readback per tile). */
export function hostFeatureExtractor(backbone: WebGpuBackbone): HostFeatureExtractor {
  const device = backbone.device;
  return {
    runtime: "onnxruntime-web/webgpu",
    async extract(image) {
      const out = await backbone.run(image);
      const bytes = 4 * out.channels * out.height * out.width;
      const staging = createBuffer(
        device,
        "tile features readback",
        bytes,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      );
      try {
        const encoder = device.createCommandEncoder({ label: "tile features readback" });
        encoder.copyBufferToBuffer(out.features, 0, staging, 0, Math.ceil(bytes / 4) * 4);
        device.queue.submit([encoder.finish()]);
        out.release();
        const [data] = await readBack([staging], [bytes]);
        return {
          channels: out.channels,
          height: out.height,
          width: out.width,
          data: new Float32Array(data),
        };
      } finally {
        out.release();
        staging.destroy();
      }
    },
    dispose: () => Promise.resolve(),
  };
}

/** {@link GpuFca} as the FCA engine of the tiled path (scaled features in, map out). */
export function gpuFcaEngine(fca: GpuFca): FcaEngine {
  return { fcaMap: (features, params, reference) => fca.fcaMap(features, params, { reference }) };
}

/**
 * Tile side for an image on `device`: `requested` when given, else the automatic CPU rule, else
 * the largest power-of-two side whose feature tile and upsampled map fit the device's limits
 * (0 = the whole image fits).
 */
export function gpuTileFor(
  image: { width: number; height: number },
  channels: number,
  stride: number,
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
  requested = 0,
): number {
  if (requested > 0) return requested;
  const auto = autoTileSize(image.width, image.height, channels, stride);
  if (auto > 0) return auto;
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const fh = Math.ceil(image.height / stride), fw = Math.ceil(image.width / stride);
  const fits = (h: number, w: number) =>
    4 * channels * h * w <= limit && 4 * h * w * stride * stride <= limit;
  if (fits(fh, fw)) return 0;
  let tile = 4096;
  while (tile > 64 && !fits(tile / stride + 32, tile / stride + 32)) tile /= 2;
  return tile;
}
