/**
 * `--tile` for every design point that can be tiled (issue 10): the tiled map of `sww`, `hist`
 * and `moments` (median and random references where they apply) equals the untiled CPU
 * statistics on the same features, and the detector reports its tile count; designs that compare
 * every window with all others (k-NN, aota) refuse `--tile` in one line.
 */
import assert from "node:assert/strict";
import type { Design } from "../src/design.ts";
import { anomalyMapCpu } from "../src/fca/stats/mod.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { cpuStatsEngine, tileStatistic } from "../src/pipeline/map_engines.ts";
import { tiledFeatureMap, type TileStatistic } from "../src/pipeline/tiling/tiler.ts";
import { Detector } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { resizeImage } from "../src/io/resize.ts";
import { relativeMaxError } from "./_shared.ts";
import { poolingBackbone } from "./_pooling_backbone.ts";

const IMAGE = resizeImage(syntheticTexture(256, { seed: 5 }).image, 250, 161);
const PARAMS = { patch: 5, sigmaP: 2, sigmaS: 1 };

function design(stats: Design["stats"], reference: Design["reference"]): Design {
  return { features: "onnx", stats, reference, seed: 3 };
}

for (
  const [stats, reference, tol] of [
    ["sww", "median", 0],
    ["sww", "random", 0],
    ["fca", "random", 0],
    ["hist", "median", 1e-6],
    ["moments", "median", 1e-6],
  ] as const
) {
  Deno.test(`tiled ${stats}/${reference} equals the untiled map`, async () => {
    const backbone = poolingBackbone();
    const d = design(stats, reference);
    const whole = anomalyMapCpu(minMaxScale(await backbone.extract(IMAGE)), {
      ...d,
      params: PARAMS,
    });
    const statistic = tileStatistic(d, cpuStatsEngine(d)) as TileStatistic;
    assert.equal(typeof statistic, "object");
    backbone.calls = 0;
    const tiled = await tiledFeatureMap(backbone, statistic, IMAGE, PARAMS, {
      tile: 64,
      stride: 8,
      halo: 0,
      fcaTile: 6,
    });
    assert.equal(backbone.calls, 12, "4x3 image tiles of 64 px");
    assert.equal(tiled.height, whole.height);
    assert.equal(tiled.width, whole.width);
    const err = relativeMaxError(tiled.data, whole.data);
    assert.ok(err <= tol, `relative error ${err}`);
    // Not vacuous: the map has contrast.
    assert.ok(Math.max(...whole.data) > Math.min(...whole.data));
  });
}

Deno.test("k-NN references and aota cannot be tiled, and say so", async () => {
  assert.match(
    tileStatistic(design("fca", "knn"), cpuStatsEngine(design("fca", "knn"))) as string,
    /knn .*cannot be tiled/,
  );
  assert.match(
    tileStatistic(design("aota", "median"), cpuStatsEngine(design("aota", "median"))) as string,
    /aota .*cannot be tiled/,
  );
  await assert.rejects(
    Detector.create({ features: "colors", stats: "aota", tile: 64, backend: "cpu" }),
    /--tile: --stats aota compares every pixel with all others and cannot be tiled/,
  );
});

Deno.test("detector: --tile with hand-crafted features and sww equals untiled, reports its tiles", async () => {
  const opts = {
    features: "laws",
    stats: "sww",
    backend: "cpu",
    params: { patch: 5, sigmaP: 2, sigmaS: 1 },
  } as const;
  const image = resizeImage(IMAGE, 96, 80);
  const plain = await Detector.create(opts);
  const tiled = await Detector.create({ ...opts, tile: 48 });
  try {
    const a = await plain.detect(image), b = await tiled.detect(image);
    assert.equal(a.tiles ?? 1, 1);
    assert.equal(b.tiles, 4, "2x2 tiles of 48 px");
    const err = relativeMaxError(b.map.data, a.map.data);
    assert.ok(err <= 1e-6, `relative error ${err}`);
  } finally {
    await plain.dispose();
    await tiled.dispose();
  }
});
