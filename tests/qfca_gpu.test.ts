/**
 * QFCA on WebGPU against the CPU specification (src/fca/qfca.ts): parity ≤ 1e-5 of the map's
 * range. Tiny sizes (CI runs WebGPU on llvmpipe); ignored when there is no adapter.
 */
import assert from "node:assert/strict";
import { gpuTest, SHARED_GPU } from "./_gpu.ts";
import { GpuQfca } from "../src/gpu/qfca_gpu.ts";
import { qfcaMap, quantizedMedianReference } from "../src/fca/qfca.ts";
import { CpuQfca } from "../src/fca/fast/qfca.ts";
import type { FeatureMap } from "../src/fca/types.ts";
import { relativeMaxError, rng } from "./_shared.ts";

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
