/**
 * The default preset's steps (issue 11) against independent computations: the reflect padding
 * of the image and the crop of the features (host and device), the scale rule and the image score
 * that leaves out a border band; and the preset resolution (paper = the authors' settings,
 * explicit options win).
 */
import assert from "node:assert/strict";
import { resolveSettings } from "../src/design.ts";
import { reflectPadImage } from "../src/fca/pad_image.ts";
import { interiorMax } from "../src/fca/image_score.ts";
import { workingSize } from "../src/fca/scale_rule.ts";
import { GpuCrop } from "../src/gpu/crop.ts";
import { createBuffer, readBack } from "../src/gpu/buffers.ts";
import { paddedHostSource } from "../src/pipeline/feature_sources.ts";
import { cropFeatures } from "../src/pipeline/tiling/fca.ts";
import { Detector } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { resizeImage } from "../src/io/resize.ts";
import { gpuTest, SHARED_GPU } from "./_gpu.ts";
import {
  HAVE_MODEL,
  MODEL_PATH,
  relativeMaxError,
  rng,
  skipWithoutGpu,
  skipWithoutShared,
} from "./_shared.ts";
import { poolingBackbone } from "./_pooling_backbone.ts";

Deno.test("presets: default and paper settings; explicit options win", () => {
  const d = resolveSettings({});
  assert.deepEqual(
    [d.preset, d.size, d.patch, d.pad, d.scoreBorder, d.imageScore, d.sigmaP, d.sigmaS],
    ["default", "auto", 3, 16, 4, "relative", 3, 1],
  );
  const p = resolveSettings({ preset: "paper" });
  assert.deepEqual(
    [p.size, p.patch, p.pad, p.scoreBorder, p.imageScore],
    ["original", 9, 0, 0, "max"],
  );
  const mixed = resolveSettings({ preset: "paper", patch: 7, size: "auto" });
  assert.deepEqual([mixed.size, mixed.patch, mixed.pad], ["auto", 7, 0]);
  assert.throws(
    () => resolveSettings({ preset: "best" }),
    /--preset must be one of default, paper/,
  );
});

Deno.test("scale rule: short side to 50 cells, aspect kept, capped, never shrunk", () => {
  const rule = { minCells: 50, maxSide: 1024, stride: 8 };
  assert.deepEqual(workingSize(200, 200, rule), [400, 400]);
  assert.deepEqual(workingSize(320, 480, rule), [400, 600]);
  assert.deepEqual(workingSize(512, 512, rule), [512, 512]);
  assert.deepEqual(workingSize(100, 900, rule), [112, 1024], "the longer side caps the factor");
  assert.deepEqual(workingSize(1000, 2000, rule), [1000, 2000]);
});

Deno.test("reflect padding: every pixel mirrors the image without repeating the edge", () => {
  const r = rng(4), W = 7, H = 5, pad = 3;
  const data = Float32Array.from({ length: 3 * W * H }, () => r());
  const p = reflectPadImage({ width: W, height: H, data }, pad);
  const mirror = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H + 2 * pad; y++) {
      for (let x = 0; x < W + 2 * pad; x++) {
        const want = data[(c * H + mirror(y - pad, H)) * W + mirror(x - pad, W)];
        assert.equal(p.data[(c * p.height + y) * p.width + x], want);
      }
    }
  }
});

Deno.test("padded host source: features of the padded image, border cells cropped", async () => {
  const backbone = poolingBackbone();
  const image = resizeImage(syntheticTexture(64, { seed: 2 }).image, 72, 56);
  const padded = paddedHostSource(backbone, 16, 8);
  const got = await padded.extract(image);
  const whole = await backbone.extract(reflectPadImage(image, 16));
  assert.deepEqual([got.height, got.width], [7, 9]);
  assert.deepEqual(got.data, cropFeatures(whole, 2, whole.height - 2, 2, whole.width - 2).data);
  assert.throws(() => paddedHostSource(backbone, 12, 8), /--pad must be a multiple of/);
});

Deno.test("image score: the max without a band of B cells, the plain max when too small", () => {
  const W = 6, H = 5, data = new Float32Array(W * H);
  data[0] = 9; // a hot corner
  data[2 * W + 3] = 4; // the interior's peak
  const map = { width: W, height: H, data };
  assert.equal(interiorMax(map, 0), 9);
  assert.equal(interiorMax(map, 1), 4);
  assert.equal(interiorMax(map, 2), 4);
  assert.equal(interiorMax(map, 3), 9, "band too wide for the map");
});

gpuTest("gpu crop_features equals cropFeatures exactly", async () => {
  const device = SHARED_GPU!.device;
  const r = rng(9), C = 5, H = 11, W = 13, cells = 2;
  const data = Float32Array.from({ length: C * H * W }, () => r());
  const src = createBuffer(device, "crop test src", data.byteLength);
  device.queue.writeBuffer(src, 0, data);
  const crop = await GpuCrop.create(device);
  try {
    const out = crop.crop({ features: src, channels: C, height: H, width: W }, cells);
    assert.deepEqual([out.height, out.width], [H - 4, W - 4]);
    const bytes = 4 * C * out.height * out.width;
    const staging = createBuffer(device, "crop test read", bytes, 0x1 | 0x8); // MAP_READ | COPY_DST
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(out.features, 0, staging, 0, bytes);
    device.queue.submit([enc.finish()]);
    const [back] = await readBack([staging], [bytes]);
    const f = { channels: C, height: H, width: W, data };
    assert.deepEqual(
      new Float32Array(back),
      cropFeatures(f, cells, H - cells, cells, W - cells).data,
    );
    staging.destroy();
  } finally {
    crop.dispose();
    src.destroy();
  }
});

Deno.test({
  name: "detector: the default's score is the interior max of its feature map over its median",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const image = syntheticTexture(40, { seed: 5, defect: true }).image;
    const d = await Detector.create({ features: "colors", backend: "cpu", scoreBorder: 4 });
    try {
      const det = await d.detect(image);
      const f = det.featureMap!;
      const sorted = [...f.data].sort((a, b) => a - b), n = sorted.length;
      const median = n % 2 ? sorted[n >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
      assert.ok(Math.abs(det.score - interiorMax(f, 4) / median) <= 1e-6 * det.score);
      assert.equal(det.imageScore, det.score);
      // --image-score max keeps the interior maximum itself.
      const m = await Detector.create({
        features: "colors",
        backend: "cpu",
        scoreBorder: 4,
        imageScore: "max",
      });
      try {
        assert.equal((await m.detect(image)).score, interiorMax(f, 4));
      } finally {
        await m.dispose();
      }
      assert.deepEqual(det.used, {
        width: 50,
        height: 50,
        patch: 3,
        scales: [{ width: 50, height: 50, patch: 3 }, { width: 80, height: 80, patch: 3 }],
      }, "enlarged to 50 and 80 cells");
    } finally {
      await d.dispose();
    }
  },
});

Deno.test({
  name: "default preset: webgpu (device pad crop, no overlay on the padded upload) = cpu",
  ignore: skipWithoutGpu(SHARED_GPU !== null) || skipWithoutShared(HAVE_MODEL),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const image = resizeImage(syntheticTexture(96, { seed: 8, defect: true }).image, 120, 88);
    // A fixed working size keeps the backbone small on a software adapter; the rest is default.
    const cpu = await Detector.create({ model: MODEL_PATH, backend: "cpu", size: 128 });
    const web = await Detector.create({ model: MODEL_PATH, backend: "webgpu", size: 128 });
    try {
      const a = await cpu.detect(image), b = await web.detect(image);
      assert.deepEqual(a.used, b.used);
      assert.deepEqual(a.used, { width: 128, height: 128, patch: 3 });
      const err = relativeMaxError(b.map.data, a.map.data);
      assert.ok(err <= 1e-3, `relative error ${err}`);
      assert.ok(Math.abs(a.score - b.score) <= 1e-3 * a.score);
    } finally {
      await cpu.dispose();
      await web.dispose();
    }
  },
});
