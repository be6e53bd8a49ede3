/**
 * Several working scales (`--cells 50,80`, the default preset): the fusion against analytic
 * cases, the WGSL kernel against its CPU specification, the detector's scales against separate
 * single-scale runs fused by hand, and the option's validation.
 */
import assert from "node:assert/strict";
import { cellsOf, parsePipelineFlags, resolveSettings } from "../src/design.ts";
import { bandOnFused, fuseScales, fusionGrid } from "../src/fca/fuse_scales.ts";
import { resizeBilinear } from "../src/fca/upsample.ts";
import { imageScoreOf } from "../src/fca/image_score.ts";
import type { ScalarMap } from "../src/fca/types.ts";
import { GpuScaleFusion } from "../src/gpu/fuse_scales_gpu.ts";
import { Detector, type DetectorOptions } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { gpuTest, SHARED_GPU } from "./_gpu.ts";
import { relativeMaxError, rng } from "./_shared.ts";

function randomMap(height: number, width: number, seed: number): ScalarMap {
  const r = rng(seed);
  return { height, width, data: Float32Array.from({ length: height * width }, () => r()) };
}

const constant = (height: number, width: number, v: number): ScalarMap => ({
  height,
  width,
  data: new Float32Array(height * width).fill(v),
});

Deno.test("fuseScales: same grid = the mean; constants stay constant; one map is itself", () => {
  const a = randomMap(5, 7, 1), b = randomMap(5, 7, 2);
  const f = fuseScales([a, b]);
  for (let i = 0; i < f.data.length; i++) {
    assert.ok(Math.abs(f.data[i] - (a.data[i] + b.data[i]) / 2) <= 1e-7);
  }
  // Bilinear resizing keeps a constant map constant: the fused map is the mean of the levels.
  const g = fuseScales([constant(3, 5, 2), constant(6, 10, 4), constant(4, 7, 9)]);
  assert.deepEqual([g.height, g.width], [6, 10], "the grid of the largest map");
  for (const v of g.data) assert.ok(Math.abs(v - 5) <= 1e-6, `${v}`);
  assert.equal(fuseScales([a]), a);
  assert.deepEqual(fusionGrid([constant(2, 2, 0), constant(3, 1, 0), constant(2, 2, 1)]), {
    height: 2,
    width: 2,
  });
  assert.throws(() => fuseScales([]), /no maps/);
});

Deno.test("fuseScales: a coarse map is resized with the upsampling's taps before the mean", () => {
  const coarse = randomMap(4, 6, 3), fine = randomMap(8, 12, 4);
  const up = resizeBilinear(coarse, 8, 12);
  const f = fuseScales([coarse, fine]);
  for (let i = 0; i < f.data.length; i++) {
    assert.ok(Math.abs(f.data[i] - (up.data[i] + fine.data[i]) / 2) <= 1e-6);
  }
});

Deno.test("bandOnFused: the first scale's band, in cells of the fused grid", () => {
  const grid = (height: number, width: number) => ({ height, width });
  assert.equal(bandOnFused(4, grid(80, 120), grid(50, 75)), 6, "4 · 80 / 50 = 6.4");
  assert.equal(bandOnFused(4, grid(50, 75), grid(50, 75)), 4, "one grid: unchanged");
  assert.equal(bandOnFused(0, grid(80, 80), grid(50, 50)), 0);
  assert.equal(bandOnFused(4, grid(36, 36), grid(30, 30)), 5, "4.8 rounds to 5");
});

gpuTest("gpu fuse_scales equals fuseScales (three scales, unequal grids)", async () => {
  const fusion = await GpuScaleFusion.create(SHARED_GPU!.device);
  const maps = [randomMap(7, 9, 5), randomMap(14, 18, 6), randomMap(11, 13, 7)];
  const gpu = await fusion.fuse(maps), cpu = fuseScales(maps);
  assert.deepEqual([gpu.height, gpu.width], [cpu.height, cpu.width]);
  const err = relativeMaxError(gpu.data, cpu.data);
  assert.ok(err <= 1e-5, `relative error ${err}`);
});

Deno.test("--cells: parsed, validated, and refused with a fixed --size", () => {
  assert.equal(resolveSettings({}).cells, "50,80", "the default preset's two scales");
  assert.equal(resolveSettings({ preset: "paper" }).cells, "50");
  assert.deepEqual(cellsOf(resolveSettings({ cells: " 40, 64 ,96" })), [40, 64, 96]);
  assert.equal(resolveSettings({ cells: 64 }).cells, "64");
  for (const bad of ["80,50", "50,50", "abc", "", "50,", "2", "10,20,30,40,50", "50.5"]) {
    assert.throws(
      () => resolveSettings({ cells: bad }),
      /--cells must be 1 to 4 increasing integers/,
      bad,
    );
  }
  assert.throws(
    () => parsePipelineFlags({ cells: "50,80", size: "320" }),
    /--cells sets the scales of --size auto; it does not apply with --size 320/,
  );
  // The preset's scales do not stand in the way of a fixed size.
  assert.equal(parsePipelineFlags({ size: "320" }).size, 320);
  assert.equal(resolveSettings({ size: 320, cells: "50,80" }).size, 320, "resolved settings pass");
});

/** A detector on hand-crafted colour features (stride 1, no model: fast and exact). */
function colors(opts: DetectorOptions) {
  return Detector.create({ features: "colors", backend: "cpu", scoreBorder: 4, ...opts });
}

Deno.test({
  name: "detector: two scales = the single-scale feature maps fused, then upsampled and scored",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const image = syntheticTexture(30, { seed: 11, defect: true }).image;
    const both = await colors({ cells: "20,36" });
    const s20 = await colors({ cells: "20" }), s36 = await colors({ cells: "36" });
    try {
      assert.deepEqual(both.plans(30, 30).map((p) => [p.width, p.height]), [[30, 30], [36, 36]]);
      const d = await both.detect(image);
      const a = await s20.detect(image), b = await s36.detect(image);
      const fused = fuseScales([a.featureMap!, b.featureMap!]);
      assert.deepEqual([d.featureMap!.height, d.featureMap!.width], [36, 36]);
      assert.deepEqual(d.featureMap!.data, fused.data);
      assert.deepEqual(d.map.data, resizeBilinear(fused, 30, 30).data, "at the input's size");
      assert.deepEqual(d.used, {
        width: 30,
        height: 30,
        patch: 3,
        scales: [{ width: 30, height: 30, patch: 3 }, { width: 36, height: 36, patch: 3 }],
      });
      // Scored on the fused map, the 4-cell band of the first (30-cell) scale widened to the
      // fused 36-cell grid: round(4 · 36 / 30) = 5 cells.
      assert.equal(d.score, imageScoreOf(fused, 5, "relative"));
      // Scales the cap makes equal run once.
      const capped = await colors({ cells: "20,36" });
      try {
        assert.equal(capped.plans(1000, 10).length, 1, "1024 px cap: one working size");
      } finally {
        await capped.dispose();
      }
    } finally {
      await Promise.all([both.dispose(), s20.dispose(), s36.dispose()]);
    }
  },
});

gpuTest("detector: two scales on webgpu = cpu", async () => {
  const image = syntheticTexture(30, { seed: 12, defect: true }).image;
  const cpu = await colors({ cells: "20,36" });
  const web = await colors({ cells: "20,36", backend: "webgpu" });
  try {
    const a = await cpu.detect(image), b = await web.detect(image);
    assert.deepEqual(a.used, b.used);
    const err = relativeMaxError(b.map.data, a.map.data);
    assert.ok(err <= 1e-5, `relative error ${err}`);
    assert.ok(Math.abs(a.score - b.score) <= 1e-5 * a.score);
  } finally {
    await cpu.dispose();
    await web.dispose();
  }
});
