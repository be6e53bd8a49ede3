/**
 * The WebGPU backend's tiled path: tile sizes from device limits, and GPU FCA tiles (through
 * the tiling of tiled.ts) equal to the untiled CPU map.
 */
import assert from "node:assert/strict";
import { gpuFcaEngine, gpuTileFor } from "../src/pipeline/tiling/gpu.ts";
import { tiledFeatureMap } from "../src/pipeline/tiling/tiler.ts";
import { GpuFca } from "../src/gpu/fca_gpu.ts";
import { SHARED_GPU } from "./_gpu.ts";
import { CpuFca } from "../src/fca/fast/mod.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { resizeImage } from "../src/io/resize.ts";
import { poolingBackbone } from "./_pooling_backbone.ts";
import { relativeMaxError, skipWithoutGpu } from "./_shared.ts";

const big = { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 31 };

Deno.test("gpuTileFor: whole image when it fits, tiles when buffers or the CPU rule demand", () => {
  assert.equal(gpuTileFor({ width: 1024, height: 1024 }, 512, 8, big), 0);
  assert.equal(gpuTileFor({ width: 1024, height: 1024 }, 512, 8, big, 256), 256, "--tile wins");
  assert.equal(
    gpuTileFor({ width: 8192, height: 8192 }, 512, 8, big),
    1024,
    "CPU rule above 4096²",
  );
  // A 128 MiB binding limit: 512×128×128 features (32 MiB) fit, 512×384×384 (288 MiB) do not.
  const small = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 };
  assert.equal(gpuTileFor({ width: 1024, height: 1024 }, 512, 8, small), 0);
  const tile = gpuTileFor({ width: 3072, height: 3072 }, 512, 8, small);
  assert.ok(tile > 0 && 4 * 512 * (tile / 8 + 32) ** 2 <= 2 ** 27, `tile ${tile}`);
});

const gpu = SHARED_GPU;

Deno.test({
  name: "GPU FCA tiles through the tiled path equal the untiled CPU map",
  ignore: skipWithoutGpu(gpu !== null),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const fca = await GpuFca.create(gpu!.device);
    const cpu = await CpuFca.create({ threads: 1 });
    try {
      const backbone = poolingBackbone();
      const image = resizeImage(syntheticTexture(192, { seed: 3 }).image, 180, 120);
      const params = { patch: 5, sigmaP: 3, sigmaS: 1 };
      const whole = await cpu.fcaMap(minMaxScale(await backbone.extract(image)), params);
      const tiled = await tiledFeatureMap(backbone, gpuFcaEngine(fca), image, params, {
        tile: 64,
        stride: 8,
        halo: 0,
        fcaTile: 8,
      });
      assert.deepEqual([tiled.height, tiled.width], [whole.height, whole.width]);
      assert.ok(relativeMaxError(tiled.data, whole.data) <= 1e-5);
    } finally {
      fca.dispose();
      cpu.dispose();
    }
  },
});
