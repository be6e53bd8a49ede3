/**
 * The design space through the Detector: the webgpu backend gives the cpu backend's maps for every
 * statistics/reference pair it runs, and refuses the CPU-only ones in one line.
 */
import assert from "node:assert/strict";
import { Detector, type DetectorOptions } from "../src/pipeline/detector.ts";
import { countSubmitsAndMaps, SHARED_GPU } from "./_gpu.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { relativeMaxError, skipWithoutGpu } from "./_shared.ts";

const gpu = SHARED_GPU;
const image = syntheticTexture(48, { seed: 11, defect: true }).image;

const CASES: DetectorOptions[] = [
  { features: "colors", stats: "sww", reference: "median" },
  { features: "colors", stats: "sww", reference: "random", seed: 3 },
  { features: "laws", stats: "hist" },
  { features: "laws", stats: "moments" },
  { features: "colors", stats: "fca", reference: "random", seed: 5 },
  { features: "laws", stats: "fca", reference: "median" },
];

for (const design of CASES) {
  Deno.test({
    name: `webgpu equals cpu: ${design.features}/${design.stats}/${design.reference ?? "median"}`,
    ignore: skipWithoutGpu(gpu !== null),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const params = { patch: 5, sigmaP: 3, sigmaS: 1 };
      const cpu = await Detector.create({ ...design, params, backend: "cpu" });
      const web = await Detector.create({ ...design, params, backend: "webgpu" });
      try {
        assert.equal(web.backend, "webgpu");
        const a = await cpu.detect(image), b = await web.detect(image);
        const err = relativeMaxError(b.map.data, a.map.data);
        assert.ok(err <= 1e-5, `relative error ${err}`);
      } finally {
        await cpu.dispose();
        await web.dispose();
      }
    },
  });
}

Deno.test("CPU-only design points refuse a forced webgpu backend in one line", async () => {
  for (const design of [{ stats: "aota" }, { reference: "knn" }] as DetectorOptions[]) {
    await assert.rejects(
      () => Detector.create({ ...design, features: "colors", backend: "webgpu" }),
      /--backend webgpu does not run --reference knn or --stats aota; use --backend cpu/,
    );
  }
});

Deno.test({
  name: "webgpu detector: a design-space map is computed with no readback before the final map",
  ignore: skipWithoutGpu(gpu !== null),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const params = { patch: 5, sigmaP: 3, sigmaS: 1 };
    for (const design of CASES) {
      // One scale: several (--cells 50,80) submit once per scale and fuse (scale_fusion.test.ts).
      const web = await Detector.create({ ...design, params, backend: "webgpu", cells: "50" });
      try {
        await web.detect(image); // compile and plan first
        const [, { submits, maps }] = await countSubmitsAndMaps(() => web.detect(image));
        const what = `${design.features}/${design.stats}/${design.reference ?? "median"}`;
        // Hand-crafted features are uploaded with writeBuffer: the one submission is the map's.
        assert.equal(submits, 1, `${what}: ${submits} submissions`);
        assert.ok(maps.length >= 1, `${what}: nothing read back`);
        assert.ok(maps.every((n) => n === 1), `${what}: a readback before the final map`);
      } finally {
        await web.dispose();
      }
    }
  },
});
