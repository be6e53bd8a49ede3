/**
 * End to end: each golden image through the shared backbone and the whole pipeline must give
 * the authors' map (stable tie order, skimage upsampling) to 1e-3 of its range. onnxruntime and
 * PyTorch sum the convolutions in different orders, so the features differ slightly (measured up
 * to 6e-4 of their range); the FCA stages alone are held to 1e-5 in the stage tests.
 */
import assert from "node:assert/strict";
import { Detector } from "../src/pipeline/detector.ts";
import { readImage } from "../src/io/decode.ts";
import { readNpy } from "../src/io/npy.ts";
import { overlay } from "../src/io/colormap.ts";
import { OVERLAY_ALPHA } from "../src/io/outputs.ts";
import {
  GOLDEN_DIR,
  HAVE_GOLDEN,
  HAVE_MODEL,
  maxOf,
  MODEL_PATH,
  relativeMaxError,
  skipWithoutGpu,
  skipWithoutShared,
} from "./_shared.ts";
import { SHARED_GPU } from "./_gpu.ts";

const SETS = ["magnetic_tile", "fabric_stain_hsst", "crackforest"];
const gpu = SHARED_GPU;

for (const backend of ["cpu", "webgpu"] as const) {
  Deno.test({
    name: `pipeline on ${backend}: golden images end to end within 1e-3 of range`,
    ignore: skipWithoutShared(HAVE_GOLDEN, HAVE_MODEL) ||
      (backend === "webgpu" && skipWithoutGpu(gpu !== null)),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const detector = await Detector.create({ model: MODEL_PATH, backend, preset: "paper" });
      try {
        assert.equal(detector.backend, backend);
        // Software WebGPU is slow: one image there (non-square), all three on the CPU.
        for (const set of backend === "cpu" ? SETS : ["magnetic_tile"]) {
          const dir = `${GOLDEN_DIR}/pipeline_${set}`;
          const image = await readImage(`${dir}/image.png`);
          const det = await detector.detect(image);
          const expected = await readNpy(`${dir}/fca_upsampled_stable.npy`);
          assert.deepEqual([det.map.height, det.map.width], expected.shape);
          const err = relativeMaxError(det.map.data, expected.data);
          console.log(`  ${backend} ${set}: max error ${err.toExponential(2)} of range`);
          assert.ok(err <= 1e-3, `${set}: ${err}`);
          assert.equal(det.score, maxOf(det.map.data));
          assert.equal(det.heatmap.length, 4 * image.width * image.height);
          if (backend === "webgpu") {
            // Rendered on the GPU: the CPU blend of the same heatmap, but at float rounding ties.
            const cpu = overlay(image, det.heatmap, OVERLAY_ALPHA).filter((_, i) => i % 4 !== 3);
            assert.ok(det.overlay, "the webgpu backend renders the overlay");
            let off = 0;
            for (let i = 0; i < cpu.length; i++) {
              assert.ok(Math.abs(det.overlay[i] - cpu[i]) <= 1, `overlay byte ${i}`);
              if (det.overlay[i] !== cpu[i]) off++;
            }
            assert.ok(off <= cpu.length / 1000, `${off} overlay bytes off by one`);
          }
        }
      } finally {
        await detector.dispose();
      }
    },
  });
}
