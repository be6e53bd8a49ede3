import assert from "node:assert/strict";
import {
  correlateReflect,
  handcraftedFeatures,
  type HandcraftedKind,
  lawsFeatures,
  lawsKernels,
  randomKernels,
} from "../src/features/handcrafted.ts";
import type { RgbImage } from "../src/io/types.ts";
import { rng } from "./_shared.ts";

function image(H: number, W: number, value: (c: number, y: number, x: number) => number): RgbImage {
  const data = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) data[c * H * W + y * W + x] = value(c, y, x);
    }
  }
  return { height: H, width: W, data };
}

Deno.test("colors are the image itself, at full resolution", () => {
  const r = rng(1);
  const im = image(5, 7, () => r());
  const f = handcraftedFeatures("colors", im, 0);
  assert.deepEqual([f.channels, f.height, f.width], [3, 5, 7]);
  assert.deepEqual(f.data, im.data);
  assert.notEqual(f.data, im.data, "features must not alias the image");
});

Deno.test("random features: 128 unit-norm 5x5x3 kernels, seeded, correlated at full resolution", () => {
  const k = randomKernels(4);
  assert.equal(k.length, 128 * 75);
  for (let n = 0; n < 128; n++) {
    let ss = 0;
    for (let q = 0; q < 75; q++) ss += k[n * 75 + q] ** 2;
    assert.ok(Math.abs(ss - 1) < 1e-5);
  }
  assert.deepEqual(randomKernels(4), k);
  assert.notDeepEqual(randomKernels(5), k);
  // A constant image c gives c × (sum of each kernel's weights) everywhere.
  const f = handcraftedFeatures("random", image(6, 8, () => 0.5), 4);
  assert.deepEqual([f.channels, f.height, f.width], [128, 6, 8]);
  for (let n = 0; n < 128; n++) {
    let sum = 0;
    for (let q = 0; q < 75; q++) sum += k[n * 75 + q];
    for (let p = 0; p < 48; p++) assert.ok(Math.abs(f.data[n * 48 + p] - 0.5 * sum) < 1e-5);
  }
});

Deno.test("correlateReflect is cross-correlation (torch conv2d) with reflect padding", () => {
  const H = 9, W = 9, kernel = Float32Array.from({ length: 25 }, (_, q) => q + 1);
  const impulse = new Float32Array(H * W);
  impulse[4 * W + 4] = 1;
  const out = correlateReflect(impulse, 1, H, W, kernel, 5);
  for (let dy = -2; dy <= 2; dy++) {
    for (let dx = -2; dx <= 2; dx++) {
      assert.equal(out[(4 + dy) * W + 4 + dx], kernel[(2 - dy) * 5 + (2 - dx)]);
    }
  }
  // Reflect (edge not repeated): an impulse on row 1 is mirrored onto row -1.
  const edge = new Float32Array(H * W);
  edge[1 * W + 4] = 1;
  const e = correlateReflect(edge, 1, H, W, kernel, 5);
  assert.equal(e[0 * W + 4], kernel[3 * 5 + 2] + kernel[1 * 5 + 2]);
});

Deno.test("Laws: 9 maps; a constant image gives zeros; a ramp only excites L5E5", () => {
  const lk = lawsKernels();
  // L5L5 = outer(L5, L5) sums to 256: the only kernel a constant survives, and it is not output.
  assert.equal(lk.subarray(0, 25).reduce((a, b) => a + b, 0), 256);
  for (let n = 1; n < 16; n++) {
    assert.equal(lk.subarray(n * 25, n * 25 + 25).reduce((a, b) => a + b, 0), 0);
  }
  const flat = handcraftedFeatures("laws", image(20, 24, () => 0.7), 0);
  assert.deepEqual([flat.channels, flat.height, flat.width], [9, 20, 24]);
  flat.data.forEach((v) => assert.ok(Math.abs(v) < 1e-5));
  // Horizontal ramp a·x without mean removal: L5 (vertical) x E5 (horizontal) = 16·8·a, /10, /2.
  const a = 0.01, H = 30, W = 30;
  const ramp = image(H, W, (_c, _y, x) => a * x);
  const raw = lawsFeatures(ramp, 0);
  const withMean = handcraftedFeatures("laws", ramp, 0);
  for (let y = 9; y < H - 9; y++) {
    for (let x = 9; x < W - 9; x++) {
      for (let m = 0; m < 9; m++) {
        const v = raw.data[m * H * W + y * W + x];
        assert.ok(Math.abs(v - (m === 3 ? 6.4 * a : 0)) < 1e-5, `map ${m} at (${y},${x}): ${v}`);
        // The symmetric 15-tap local mean of a ramp is the ramp: nothing survives its removal.
        assert.ok(Math.abs(withMean.data[m * H * W + y * W + x]) < 1e-5);
      }
    }
  }
});

Deno.test("unknown handcrafted kinds throw", () => {
  assert.throws(
    () => handcraftedFeatures("steerable" as HandcraftedKind, image(4, 4, () => 0), 0),
    /--features must be one of/,
  );
});
