/**
 * `--stats qfca` through the design table, the map engines and the tiler: tiled maps equal
 * untiled ones, the readable statistics entry point equals the engine, bad designs are one line.
 */
import assert from "node:assert/strict";
import { checkDesign, type Design, mapKeySettings, resolveSettings } from "../src/design.ts";
import { anomalyMapCpu } from "../src/fca/stats/mod.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { CpuQfca } from "../src/fca/fast/qfca.ts";
import { tileStatistic } from "../src/pipeline/map_engines.ts";
import { qfcaEngine } from "../src/pipeline/qfca_engine.ts";
import { tiledFeatureMap, type TileStatistic } from "../src/pipeline/tiling/tiler.ts";
import { Detector } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { resizeImage } from "../src/io/resize.ts";
import { relativeMaxError } from "./_shared.ts";
import { poolingBackbone } from "./_pooling_backbone.ts";

const IMAGE = resizeImage(syntheticTexture(256, { seed: 5 }).image, 250, 161);

for (const sigmaS of [0, 1]) {
  Deno.test(`tiled qfca (σs ${sigmaS}) equals the untiled map and the specification`, async () => {
    const params = { patch: 5, sigmaP: 2, sigmaS };
    const backbone = poolingBackbone();
    const d: Design = { features: "onnx", stats: "qfca", reference: "median", seed: 0, bins: 8 };
    const features = minMaxScale(await backbone.extract(IMAGE));
    const spec = anomalyMapCpu(features, { ...d, params });
    const engine = qfcaEngine(CpuQfca.create({ threads: 2 }), d);
    try {
      const whole = await engine.featureMap(features, params);
      assert.ok(relativeMaxError(whole.data, spec.data) < 1e-5);
      const statistic = tileStatistic(d, engine) as TileStatistic;
      assert.equal(typeof statistic, "object");
      const stitched = await tiledFeatureMap(backbone, statistic, IMAGE, params, {
        tile: 64,
        stride: 8,
        halo: 0,
        fcaTile: 6,
      });
      const tiled = engine.finishTiled!(stitched, params);
      const err = relativeMaxError(tiled.data, whole.data);
      assert.ok(err <= 1e-5, `relative error ${err}`);
      assert.ok(Math.max(...whole.data) > Math.min(...whole.data));
    } finally {
      engine.dispose();
    }
  });
}

Deno.test("qfca design: options from the table, one-line errors", async () => {
  const s = resolveSettings({ stats: "qfca", bins: 32, pca: 8 });
  assert.equal(s.bins, 32);
  assert.equal(s.pca, 8);
  assert.equal(resolveSettings({}).bins, undefined);
  // The eval's resume key: unchanged for maps saved before qfca existed, bins only with qfca.
  assert.deepEqual(Object.keys(mapKeySettings(resolveSettings({ preset: "paper" }))), [
    "patch",
    "sigmaP",
    "sigmaS",
    "size",
    "features",
    "stats",
    "reference",
    "seed",
    "knnK",
    "knnStride",
  ]);
  assert.equal(mapKeySettings(resolveSettings({ stats: "qfca" })).bins, 8);
  assert.equal(mapKeySettings(resolveSettings({})).cells, "50,80", "scales with --size auto");
  assert.equal(mapKeySettings(resolveSettings({ pca: 16 })).pca, 16);
  assert.throws(() => resolveSettings({ bins: 1 }), /--bins must be an integer in \[2, 256\]/);
  assert.throws(() => resolveSettings({ pca: -1 }), /--pca must be 0/);
  assert.throws(() => checkDesign("qfca", "random"), /--stats qfca takes only --reference median/);
  await assert.rejects(
    Detector.create({ features: "colors", pca: 2, backend: "webgpu" }),
    /--backend webgpu does not run --pca/,
  );
  await assert.rejects(
    Detector.create({ features: "colors", pca: 2, tile: 64, backend: "cpu" }),
    /--tile: --pca .*cannot be tiled/,
  );
});

Deno.test("detector: --tile with qfca equals untiled (σs blur after stitching)", async () => {
  const opts = {
    features: "laws",
    stats: "qfca",
    bins: 8,
    backend: "cpu",
    params: { patch: 5, sigmaP: 2, sigmaS: 1 },
  } as const;
  const image = resizeImage(IMAGE, 96, 80);
  const plain = await Detector.create(opts);
  const tiled = await Detector.create({ ...opts, tile: 48 });
  try {
    const a = await plain.detect(image), b = await tiled.detect(image);
    assert.equal(b.tiles, 4, "2x2 tiles of 48 px");
    const err = relativeMaxError(b.map.data, a.map.data);
    assert.ok(err <= 1e-5, `relative error ${err}`);
  } finally {
    await plain.dispose();
    await tiled.dispose();
  }
});

Deno.test("detector: qfca and qfca+pca on hand-crafted features", async () => {
  const image = resizeImage(IMAGE, 64, 48);
  for (const pca of [0, 2]) {
    const det = await Detector.create({
      features: "laws",
      stats: "qfca",
      bins: 8,
      pca,
      backend: "cpu",
      params: { patch: 5, sigmaP: 2, sigmaS: 1 },
    });
    try {
      const r = await det.detect(image);
      assert.equal(r.map.width, 64);
      assert.ok(Number.isFinite(r.score) && r.score > 0);
      assert.ok("qfca" in r.timings);
      if (pca) assert.ok("pca" in r.timings);
    } finally {
      await det.dispose();
    }
  }
});
