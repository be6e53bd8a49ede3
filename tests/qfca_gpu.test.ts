/**
 * QFCA on WebGPU against the CPU specification (src/fca/qfca.ts): parity ≤ 1e-5 of the map's
 * range. Tiny sizes (CI runs WebGPU on llvmpipe); ignored when there is no adapter.
 */
import assert from "node:assert/strict";
import { countSubmitsAndMaps, gpuTest, SHARED_GPU } from "./_gpu.ts";
import { GpuQfca } from "../src/gpu/qfca_gpu.ts";
import { qfcaMap, quantizedMedianReference } from "../src/fca/qfca.ts";
import { CpuQfca } from "../src/fca/fast/qfca.ts";
import type { FeatureMap } from "../src/fca/types.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import {
  HAVE_MODEL,
  MODEL_PATH,
  relativeMaxError,
  rng,
  skipWithoutGpu,
  skipWithoutShared,
} from "./_shared.ts";
import { Detector } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";

function features(seed: number, C: number, H: number, W: number): FeatureMap {
  const r = rng(seed);
  const data = Float32Array.from({ length: C * H * W }, () => (r() < 0.5 ? 0 : r()));
  return { channels: C, height: H, width: W, data };
}

let qPromise: Promise<GpuQfca> | null = null;
const gpu = () => qPromise ??= GpuQfca.create(SHARED_GPU!.device);

gpuTest("gpu qfca equals the CPU specification (median and given references)", async () => {
  const q = await gpu();
  const cases: [number, number, number, number, number][] = [
    // [B, T, C, H, W]
    [8, 3, 4, 13, 11],
    [16, 5, 3, 12, 12],
    [64, 9, 2, 11, 14],
  ];
  for (const [B, T, C, H, W] of cases) {
    const f = features(B + T, C, H, W);
    const params = { patch: T, sigmaP: 3, sigmaS: 1 };
    const err = relativeMaxError((await q.map(f, params, B)).data, qfcaMap(f, params, B).data);
    console.log(`gpu qfca parity B=${B} T=${T}: ${err.toExponential(2)} of range`);
    assert.ok(err <= 1e-5, `B=${B} T=${T}: ${err}`);
    const ref = quantizedMedianReference(features(99, C, H, W), T, B);
    const p0 = { ...params, sigmaS: 0 };
    const err2 = relativeMaxError((await q.map(f, p0, B, ref)).data, qfcaMap(f, p0, B, ref).data);
    assert.ok(err2 <= 1e-5, `given reference, B=${B} T=${T}: ${err2}`);
  }
});

gpuTest("gpu qfca equals the fast CPU path (parity between backends)", async () => {
  const q = await gpu();
  const cpu = CpuQfca.create({ threads: 2 });
  try {
    for (const [B, T] of [[8, 5], [32, 7]]) {
      const f = features(7 * B, 3, 17, 15);
      const params = { patch: T, sigmaP: 2, sigmaS: 1 };
      const a = await q.map(f, params, B), b = await cpu.qfcaMap(f, params, B);
      const err = relativeMaxError(a.data, b.data);
      console.log(`gpu vs cpu qfca B=${B} T=${T}: ${err.toExponential(2)} of range`);
      assert.ok(err <= 1e-5, `B=${B} T=${T}: ${err}`);
    }
  } finally {
    cpu.dispose();
  }
});

gpuTest("gpu qfca: bad inputs are one-line errors", async () => {
  const q = await gpu();
  const f = features(1, 2, 8, 8);
  await assert.rejects(() => q.map(f, { patch: 3, sigmaP: 1, sigmaS: 0 }, 1), /--bins/);
  await assert.rejects(
    () => q.map(f, { patch: 3, sigmaP: 1, sigmaS: 0 }, 8, new Uint8Array(5)),
    /reference/,
  );
});

gpuTest("gpu qfca of device features: scaled on the device, equal to host features", async () => {
  const q = await gpu();
  const dev = SHARED_GPU!.device;
  const f = features(5, 3, 14, 13);
  // Raw (unscaled) features on the device; the host twin scales them the same way first.
  const raw = { ...f, data: f.data.map((v, i) => 3 * v - 1 + (i % 7)) };
  const buffer = dev.createBuffer({
    size: raw.data.byteLength + 64, // a larger buffer than the map, as ORT's may be
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  try {
    dev.queue.writeBuffer(buffer, 0, raw.data as Float32Array<ArrayBuffer>);
    const params = { patch: 5, sigmaP: 2, sigmaS: 1 };
    const got = await q.mapDevice(buffer, raw, params, 8, true);
    const want = qfcaMap(minMaxScale({ ...raw, data: raw.data.slice() }), params, 8);
    const err = relativeMaxError(got.data, want.data);
    assert.ok(err <= 1e-5, `scaled on the device: ${err}`);
    // Already scaled (hand-crafted features): used as they are.
    dev.queue.writeBuffer(buffer, 0, f.data as Float32Array<ArrayBuffer>);
    const err2 = relativeMaxError(
      (await q.mapDevice(buffer, f, params, 16, false)).data,
      qfcaMap(f, params, 16).data,
    );
    assert.ok(err2 <= 1e-5, `unscaled: ${err2}`);
    // A non-finite feature is a one-line error naming its channel.
    dev.queue.writeBuffer(buffer, 4 * (2 * 14 * 13 + 5), Float32Array.of(NaN));
    await assert.rejects(() => q.mapDevice(buffer, raw, params, 8, true), /channel 2 .*NaN/);
  } finally {
    buffer.destroy();
  }
});

gpuTest(
  "webgpu detector, qfca: one submission for hand-crafted features, the map read after it",
  async () => {
    const image = syntheticTexture(48, { seed: 11, defect: true }).image;
    const params = { patch: 5, sigmaP: 3, sigmaS: 1 };
    // One scale: several (--cells 50,80) submit once per scale and fuse (scale_fusion.test.ts).
    const design = { features: "laws", stats: "qfca", params, cells: "50" } as const;
    const cpu = await Detector.create({ ...design, backend: "cpu" });
    const web = await Detector.create({ ...design, backend: "webgpu" });
    try {
      const a = await cpu.detect(image);
      await web.detect(image); // compile first
      const [b, { submits, maps }] = await countSubmitsAndMaps(() => web.detect(image));
      assert.ok(relativeMaxError(b.map.data, a.map.data) <= 1e-5);
      assert.equal(submits, 1, `${submits} submissions`);
      assert.deepEqual(maps, [1], "one readback, after the submission");
    } finally {
      await cpu.dispose();
      await web.dispose();
    }
  },
);

Deno.test({
  name: "webgpu detector, qfca on the backbone: no readback before the map (features stay)",
  ignore: skipWithoutShared(HAVE_MODEL) || skipWithoutGpu(SHARED_GPU !== null),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const image = syntheticTexture(128, { seed: 4, defect: true }).image;
    const opts = { model: MODEL_PATH, preset: "paper", stats: "qfca" } as const;
    const web = await Detector.create({ ...opts, backend: "webgpu" });
    const cpu = await Detector.create({ ...opts, backend: "cpu" });
    try {
      await web.detect(image); // compile first
      const [b, { submits, maps }] = await countSubmitsAndMaps(() => web.detect(image));
      // The backbone submits its own work; the only readback (the map) comes after all of it.
      assert.deepEqual(maps, [submits], `readbacks at submissions ${maps} of ${submits}`);
      // ORT's webgpu and cpu features differ by float rounding (up to ~6e-4 of their range, see
      // pipeline_golden.test.ts), which could move a value across a bin edge: held to 1e-3.
      const a = await cpu.detect(image);
      const err = relativeMaxError(b.map.data, a.map.data);
      console.log(`webgpu vs cpu qfca on the backbone: ${err.toExponential(2)} of range`);
      assert.ok(err <= 1e-3, `${err}`);
    } finally {
      await web.dispose();
      await cpu.dispose();
    }
  },
});
