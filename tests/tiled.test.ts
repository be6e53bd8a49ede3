/**
 * Tiled processing (issue 6, "Any size"): each piece against the untiled computation: axis
 * plans, the FCA stage on feature tiles (random features, no model needed), the file-backed
 * median reference and scaling, the backbone on image tiles, and the whole tiled path on a
 * non-square image with a forced small tile.
 */
import assert from "node:assert/strict";
import { planAxis } from "../src/pipeline/tiling/plan.ts";
import { cropFeatures, tiledFcaMap } from "../src/pipeline/tiling/fca.ts";
import { ChannelRange } from "../src/pipeline/tiling/scale.ts";
import { FeatureStore } from "../src/pipeline/tiling/store.ts";
import { storedMedianReference } from "../src/pipeline/tiling/median.ts";
import { forEachFeatureTile, measureHalo } from "../src/pipeline/tiling/features.ts";
import { tiledFeatureMap } from "../src/pipeline/tiling/tiler.ts";
import { Detector } from "../src/pipeline/detector.ts";
import { CpuFca } from "../src/fca/fast/mod.ts";
import { medianReference } from "../src/fca/median_reference.ts";
import { fcaMapReference } from "../src/fca/rank_matching.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import type { FcaParams, FeatureMap } from "../src/fca/types.ts";
import { createCpuBackbone } from "../src/features/backbone_cpu.ts";
import { loadManifestFor } from "../src/features/manifest.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { resizeImage } from "../src/io/resize.ts";
import { HAVE_MODEL, MODEL_PATH, relativeMaxError, rng, skipWithoutShared } from "./_shared.ts";
import { poolingBackbone } from "./_pooling_backbone.ts";

/** Random raw features with ReLU zeros and repeated values (ties), like a backbone's. */
function randomFeatures(C: number, H: number, W: number, seed: number): FeatureMap {
  const r = rng(seed), data = new Float32Array(C * H * W);
  for (let i = 0; i < data.length; i++) {
    const u = r();
    data[i] = u < 0.3 ? 0 : u < 0.4 ? 0.5 : 3 * r() - 0.2;
  }
  return { channels: C, height: H, width: W, data };
}

function copy(f: FeatureMap): FeatureMap {
  return { ...f, data: f.data.slice() };
}

Deno.test("planAxis: aligned, balanced tiles that cover the axis once, halos clamped", () => {
  for (
    const [length, tile, halo, align] of [[203, 64, 56, 8], [4096, 1024, 56, 8], [29, 8, 8, 1]]
  ) {
    const tiles = planAxis(length, tile, halo, align);
    assert.equal(tiles[0].start, 0);
    assert.equal(tiles.at(-1)!.end, length);
    const sizes = tiles.map((t) => t.end - t.start);
    for (let i = 0; i < tiles.length; i++) {
      const t = tiles[i];
      if (i > 0) assert.equal(t.start, tiles[i - 1].end);
      assert.equal(t.start % align, 0);
      assert.ok(t.end - t.start <= tile);
      assert.equal(t.inStart, Math.max(0, t.start - halo));
      assert.equal(t.inEnd, Math.min(length, t.end + halo));
    }
    // Balanced: every tile but the last has the same size, and the last is not a sliver.
    assert.ok(sizes.slice(0, -1).every((s) => s === sizes[0]));
    assert.ok(sizes.at(-1)! > sizes[0] - tiles.length * align);
  }
  assert.throws(() => planAxis(10, 0, 1), /tile must be an integer >= 1/);
});

Deno.test("tiledFcaMap: equals the whole-map FCA bit for bit, borders included", async () => {
  const fca = await CpuFca.create({ threads: 1 });
  try {
    const f = minMaxScale(randomFeatures(12, 37, 29, 7));
    for (const params of [{ patch: 3, sigmaP: 1, sigmaS: 0 }, { patch: 9, sigmaP: 3, sigmaS: 1 }]) {
      const ref = medianReference(f, params.patch);
      const whole = await fca.fcaMap(f, params, ref);
      for (const tile of [5, 8, 16]) {
        const read = (y0: number, y1: number, x0: number, x1: number) =>
          cropFeatures(f, y0, y1, x0, x1);
        const tiled = await tiledFcaMap(read, f.height, f.width, fca, ref, params, tile);
        assert.deepEqual(tiled.data, whole.data, `T=${params.patch} tile=${tile}`);
      }
      // And the whole-map engine is the readable specification (checked independently here).
      const spec = fcaMapReference(f, ref, params);
      assert.ok(relativeMaxError(whole.data, spec.data) <= 1e-6);
    }
  } finally {
    fca.dispose();
  }
});

Deno.test("file-backed features: scaled crops and median reference equal the in-memory ones", async () => {
  const raw = randomFeatures(9, 31, 23, 11);
  const scaled = minMaxScale(copy(raw));
  const dir = await Deno.makeTempDir({ prefix: "fca-tiled-test-" });
  try {
    const store = await FeatureStore.create(raw.channels, raw.height, raw.width, dir);
    const range = new ChannelRange(raw.channels);
    try {
      for (const [y0, y1, x0, x1] of [[0, 13, 0, 23], [13, 31, 0, 10], [13, 31, 10, 23]]) {
        const block = cropFeatures(raw, y0, y1, x0, x1);
        range.update(block);
        store.writeBlock(block, y0, x0);
      }
      const rect = range.scaleInPlace(store.readRect(4, 29, 3, 20));
      assert.deepEqual(rect.data, cropFeatures(scaled, 4, 29, 3, 20).data);
      for (const patch of [3, 5, 9]) {
        const got = await storedMedianReference(store, range, patch, dir);
        // Same values; only the sign of a zero may differ (−0 and +0 tie in the sort).
        assert.deepEqual(
          Array.from(got, (v) => v + 0),
          Array.from(medianReference(scaled, patch), (v) => v + 0),
        );
      }
    } finally {
      store.close();
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "temporary files are removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ChannelRange: NaN or Inf in a block is one clear error", () => {
  const range = new ChannelRange(2);
  const data = new Float32Array([0, 1, 2, 3, NaN, 5, 6, 7]);
  assert.throws(
    () => range.update({ channels: 2, height: 2, width: 2, data }),
    /feature channel 1 contains NaN or Inf/,
  );
});

Deno.test("tiledFeatureMap (pooling backbone, no model): equals the untiled map; no files left, even on error", async () => {
  const backbone = poolingBackbone();
  const fca = await CpuFca.create({ threads: 1 });
  const dir = await Deno.makeTempDir({ prefix: "fca-tiled-test-" });
  const image = resizeImage(syntheticTexture(256, { seed: 5 }).image, 250, 161);
  try {
    const params = { patch: 5, sigmaP: 2, sigmaS: 1 };
    const whole = await fca.fcaMap(minMaxScale(await backbone.extract(image)), params);
    backbone.calls = 0;
    const tiled = await tiledFeatureMap(backbone, fca, image, params, {
      tile: 64,
      stride: 8,
      halo: 0,
      fcaTile: 6,
      tempDir: dir,
    });
    assert.equal(backbone.calls, 12, "4x3 image tiles of 64 px");
    assert.deepEqual(tiled.data, whole.data);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    const failing = { fcaMap: () => Promise.reject(new Error("engine failed")) };
    await assert.rejects(
      tiledFeatureMap(backbone, failing, image, params, {
        tile: 64,
        stride: 8,
        halo: 0,
        tempDir: dir,
      }),
      /engine failed/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "temporary files are removed on error");
  } finally {
    fca.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

const modelTest = {
  ignore: skipWithoutShared(HAVE_MODEL),
  sanitizeResources: false,
  sanitizeOps: false,
};
/** A non-square, non-multiple-of-8 textured image: 322×203 pixels, 41×26 features. */
const IMAGE = resizeImage(syntheticTexture(320, { seed: 3 }).image, 322, 203);

Deno.test({
  ...modelTest,
  name: "backbone tiles with the measured halo give the whole image's features",
  async fn() {
    const manifest = await loadManifestFor(MODEL_PATH);
    const stride = manifest.stride ?? 8;
    const spec = { ...manifest, ...manifest.normalisation };
    const backbone = await createCpuBackbone(await Deno.readFile(MODEL_PATH), spec);
    try {
      const halo = await measureHalo(backbone, stride);
      // ResNet50 up to stage 2 has a 91-pixel receptive field: radius 45, rounded up to 48, + 8.
      assert.equal(halo, 56);
      const whole = await backbone.extract(IMAGE);
      const got = new Float32Array(whole.data.length).fill(NaN);
      const shape = await forEachFeatureTile(
        backbone,
        IMAGE,
        { tile: 128, halo, stride },
        (b, fy, fx) => {
          for (let c = 0; c < b.channels; c++) {
            for (let y = 0; y < b.height; y++) {
              const dst = (c * whole.height + fy + y) * whole.width + fx;
              got.set(
                b.data.subarray((c * b.height + y) * b.width, (c * b.height + y + 1) * b.width),
                dst,
              );
            }
          }
        },
      );
      assert.deepEqual(shape, {
        channels: whole.channels,
        height: whole.height,
        width: whole.width,
      });
      const err = relativeMaxError(got, whole.data); // NaN (a gap) would fail too
      console.log(`  features: 2x3 tiles of 128 px, halo ${halo}: max error ${err} of range`);
      assert.ok(err <= 1e-6, `feature error ${err}`);
      // Control: two strides less halo lets the tile edges show (the comparison can fail).
      const short = new Float32Array(whole.data.length);
      await forEachFeatureTile(
        backbone,
        IMAGE,
        { tile: 128, halo: halo - 2 * stride, stride },
        (b, fy, fx) => {
          for (let c = 0; c < b.channels; c++) {
            for (let y = 0; y < b.height; y++) {
              const dst = (c * whole.height + fy + y) * whole.width + fx;
              short.set(
                b.data.subarray((c * b.height + y) * b.width, (c * b.height + y + 1) * b.width),
                dst,
              );
            }
          }
        },
      );
      assert.ok(relativeMaxError(short, whole.data) > 1e-6, "a too-small halo is detected");
    } finally {
      await backbone.dispose();
    }
  },
});

Deno.test({
  ...modelTest,
  name: "tiled pipeline with 128-pixel tiles equals the untiled one everywhere (T=3, T=9)",
  async fn() {
    const manifest = await loadManifestFor(MODEL_PATH);
    const stride = manifest.stride ?? 8;
    const spec = { ...manifest, ...manifest.normalisation };
    const backbone = await createCpuBackbone(await Deno.readFile(MODEL_PATH), spec);
    const fca = await CpuFca.create({ threads: 2 });
    const dir = await Deno.makeTempDir({ prefix: "fca-tiled-test-" });
    try {
      const halo = await measureHalo(backbone, stride);
      const features = minMaxScale(await backbone.extract(IMAGE));
      const params: FcaParams[] = [{ patch: 3, sigmaP: 1, sigmaS: 1 }, {
        patch: 9,
        sigmaP: 3,
        sigmaS: 1,
      }];
      for (const p of params) {
        const whole = await fca.fcaMap(features, p);
        const timings: Record<string, number> = {};
        const tiled = await tiledFeatureMap(backbone, fca, IMAGE, p, {
          tile: 128,
          stride,
          halo,
          tempDir: dir,
        }, timings);
        assert.deepEqual([tiled.height, tiled.width], [whole.height, whole.width]);
        const err = relativeMaxError(tiled.data, whole.data);
        console.log(`  T=${p.patch}: tiled vs untiled max error ${err} of range`);
        assert.ok(err <= 1e-5, `T=${p.patch}: ${err}`);
        assert.ok(["backbone", "scale", "median", "fca"].every((k) => timings[k] >= 0));
      }
      assert.deepEqual([...Deno.readDirSync(dir)], [], "temporary files are removed");
      await assert.rejects(
        tiledFeatureMap(backbone, fca, resizeImage(IMAGE, 64, 64), params[1], {
          tile: 32,
          stride,
          halo,
          tempDir: dir,
        }),
        /gives a 8x8 feature map, smaller than one 9x9 patch/,
      );
    } finally {
      fca.dispose();
      await backbone.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...modelTest,
  name: "Detector with --tile 128 gives the untiled detector's map and score",
  async fn() {
    const whole = await Detector.create({
      model: MODEL_PATH,
      backend: "cpu",
      params: { patch: 5 },
      preset: "paper",
    });
    const tiled = await Detector.create({
      model: MODEL_PATH,
      backend: "cpu",
      params: { patch: 5 },
      tile: 128,
      preset: "paper",
    });
    try {
      const a = await whole.detect(IMAGE), b = await tiled.detect(IMAGE);
      assert.ok(
        b.timings.median >= 0 && a.timings.median === undefined,
        "only one took the tiled path",
      );
      const err = relativeMaxError(b.map.data, a.map.data);
      console.log(`  detector: tiled vs untiled map max error ${err} of range`);
      assert.ok(err <= 1e-5, `${err}`);
      assert.ok(Math.abs(b.score - a.score) <= 1e-5 * a.score);
    } finally {
      await whole.dispose();
      await tiled.dispose();
    }
  },
});
