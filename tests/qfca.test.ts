import assert from "node:assert/strict";
import { medianReference } from "../src/fca/median_reference.ts";
import {
  blurMap,
  fcaMapTieAveraged,
  qfcaMap,
  quantize,
  quantizedMedianReference,
  quantizeValue,
  windowBinErrors,
} from "../src/fca/qfca.ts";
import { CpuQfca } from "../src/fca/fast/qfca.ts";
import type { FcaParams, FeatureMap } from "../src/fca/types.ts";
import { relativeMaxError, rng } from "./_shared.ts";

function randomMap(C: number, H: number, W: number, seed: number): FeatureMap {
  const r = rng(seed);
  // ReLU-like: a third exact zeros, the rest spread over [0, 1).
  const data = Float32Array.from({ length: C * H * W }, () => Math.max(0, r() * 1.5 - 0.5) / 1);
  return { channels: C, height: H, width: W, data };
}

/** The map with each value replaced by its bin's centre (b + ½)/B: already quantized. */
function quantized(f: FeatureMap, B: number): FeatureMap {
  const q = quantize(f, B);
  return { ...f, data: Float32Array.from(q, (b) => (b + 0.5) / B) };
}

Deno.test("qfca: quantization bins, centres map to their own bin", () => {
  assert.equal(quantizeValue(0, 16), 0);
  assert.equal(quantizeValue(1, 16), 15);
  assert.equal(quantizeValue(-0.1, 16), 0);
  assert.equal(quantizeValue(0.5, 16), 8);
  for (const B of [8, 16, 32, 64, 10]) {
    for (let b = 0; b < B; b++) assert.equal(quantizeValue(Math.fround((b + 0.5) / B), B), b);
  }
});

Deno.test("qfca: window errors by merge, analytic cases", () => {
  // Reference ranks: bins [0, 0, 1, 3]; window: two pixels of bin 0, two of bin 2 (B = 4).
  const e = windowBinErrors([2, 0, 2, 0], [0, 0, 1, 3], 4);
  assert.deepEqual(Array.from(e), [0, 0, (1 + 1) / 2 / 4, 0]);
  // A window equal to the reference has no error.
  assert.deepEqual(Array.from(windowBinErrors([1, 1, 1, 1], [0, 1, 2, 3], 4)), [0, 0, 0, 0]);
  // All pixels in one bin: the mean distance to every reference rank (the 1-D Wasserstein).
  const all = windowBinErrors([0, 0, 0, 4], [0, 1, 2, 3], 4);
  assert.equal(all[3], (3 + 2 + 1 + 0) / 4 / 4);
});

Deno.test("qfca: a constant map has a zero map; one odd pixel scores highest", () => {
  const f: FeatureMap = {
    channels: 2,
    height: 12,
    width: 12,
    data: new Float32Array(288).fill(0.3),
  };
  const p: FcaParams = { patch: 3, sigmaP: 1, sigmaS: 0 };
  assert.ok(qfcaMap(f, p, 8).data.every((v) => v === 0));
  f.data[5 * 12 + 6] = 0.95;
  const m = qfcaMap(f, p, 8).data;
  let arg = 0;
  for (let k = 1; k < m.length; k++) if (m[k] > m[arg]) arg = k;
  assert.equal(arg, 5 * 12 + 6);
});

Deno.test("qfca: equals tie-averaged exact FCA on maps already quantized", () => {
  for (const [B, T, sigmaS] of [[8, 3, 0], [16, 5, 0], [4, 5, 1]]) {
    const f = quantized(randomMap(3, 11, 13, 7 + B), B);
    const params = { patch: T, sigmaP: 2, sigmaS };
    const ref = medianReference(f, T);
    let oracle = fcaMapTieAveraged(f, ref, { ...params, sigmaS: 0 });
    if (sigmaS > 0) oracle = blurMap(oracle, sigmaS);
    const q = qfcaMap(f, params, B);
    const err = relativeMaxError(q.data, oracle.data);
    assert.ok(err < 1e-6, `B=${B} T=${T}: ${err}`);
    // The quantized median reference is the median reference's bins.
    const qref = quantizedMedianReference(f, T, B);
    assert.deepEqual(Array.from(qref), Array.from(ref, (v) => quantizeValue(v, B)));
  }
});

Deno.test("qfca: fast kernel equals the specification (1 and 2 threads, given reference)", async () => {
  const f = randomMap(6, 23, 19, 3);
  for (const [B, T] of [[8, 3], [16, 5], [32, 7]]) {
    const params = { patch: T, sigmaP: 2.5, sigmaS: 1 };
    const spec = qfcaMap(f, params, B);
    for (const threads of [1, 2]) {
      const engine = CpuQfca.create({ threads });
      try {
        const fast = await engine.qfcaMap(f, params, B);
        const err = relativeMaxError(fast.data, spec.data);
        assert.ok(err < 1e-5, `B=${B} T=${T} threads=${threads}: ${err}`);
      } finally {
        engine.dispose();
      }
    }
    // Against a given reference (the tiled path), and on 2 threads the same numbers as on 1: the
    // tasks' maps are summed in task order whatever thread ran them.
    const ref = quantizedMedianReference(randomMap(6, 23, 19, 9), T, B);
    const spec2 = qfcaMap(f, { ...params, sigmaS: 0 }, B, ref);
    const maps = [];
    for (const threads of [1, 2]) {
      const engine = CpuQfca.create({ threads });
      try {
        maps.push(await engine.qfcaMap(f, { ...params, sigmaS: 0 }, B, ref));
      } finally {
        engine.dispose();
      }
    }
    assert.ok(relativeMaxError(maps[0].data, spec2.data) < 1e-5);
    assert.deepEqual(maps[1].data, maps[0].data);
  }
});

Deno.test("qfca: fast kernel on more channels than one task, maps smaller than a patch", async () => {
  // 40 channels = 3 tasks of 16; a 5×6 map with T = 9 (reflection folds the window twice) against
  // a given reference.
  const f = randomMap(40, 12, 10, 5), small = randomMap(2, 5, 6, 6);
  const engine = CpuQfca.create({ threads: 2 });
  try {
    const params = { patch: 5, sigmaP: 2, sigmaS: 1 };
    const err = relativeMaxError(
      (await engine.qfcaMap(f, params, 8)).data,
      qfcaMap(f, params, 8).data,
    );
    assert.ok(err < 1e-5, `40 channels: ${err}`);
    const p9 = { patch: 9, sigmaP: 3, sigmaS: 0 };
    const ref = quantizedMedianReference(randomMap(2, 18, 18, 8), 9, 16);
    const got = (await engine.qfcaMap(small, p9, 16, ref)).data;
    assert.ok(relativeMaxError(got, qfcaMap(small, p9, 16, ref).data) < 1e-5);
  } finally {
    engine.dispose();
  }
});

Deno.test("qfca: bad inputs are one-line errors", async () => {
  const f = randomMap(2, 8, 8, 1);
  assert.throws(() => qfcaMap(f, { patch: 3, sigmaP: 1, sigmaS: 0 }, 1), /--bins/);
  const engine = CpuQfca.create({ threads: 1 });
  await assert.rejects(() => engine.qfcaMap(f, { patch: 9, sigmaP: 1, sigmaS: 0 }, 8), /patch/);
  await assert.rejects(
    () => engine.qfcaMap(f, { patch: 3, sigmaP: 1, sigmaS: 0 }, 8, new Uint8Array(3)),
    /reference/,
  );
  engine.dispose();
});
