import assert from "node:assert/strict";
import {
  colorize,
  INFERNO_RGBA8,
  INFERNO_RGBA_F32,
  LUT_SIZE,
  lutIndex,
  overlay,
} from "../src/io/colormap.ts";
import type { RgbImage } from "../src/io/types.ts";

/** WCAG relative luminance of an sRGB colour in [0, 1]. */
function luminance(r: number, g: number, b: number): number {
  const lin = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

Deno.test("inferno LUT: 256 entries with matplotlib's endpoints and midpoint", () => {
  assert.equal(LUT_SIZE, 256);
  assert.equal(INFERNO_RGBA_F32.length, 1024);
  const entry = (i: number) => Array.from(INFERNO_RGBA_F32.subarray(4 * i, 4 * i + 4));
  // matplotlib.cm.inferno(0.0), inferno(128 / 255) and inferno(1.0).
  assert.deepEqual(entry(0), [0.001462, 0.000466, 0.013866, 1].map(Math.fround));
  assert.deepEqual(entry(128), [0.735683, 0.215906, 0.330245, 1].map(Math.fround));
  assert.deepEqual(entry(255), [0.988362, 0.998364, 0.644924, 1].map(Math.fround));
  // matplotlib's bytes=True truncates 255 * v.
  assert.deepEqual(Array.from(INFERNO_RGBA8.subarray(0, 4)), [0, 0, 3, 255]);
  assert.deepEqual(Array.from(INFERNO_RGBA8.subarray(1020)), [252, 254, 164, 255]);
});

Deno.test("inferno LUT: luminance strictly increases; 8-bit table agrees with the float one", () => {
  let prev = -1;
  for (let i = 0; i < LUT_SIZE; i++) {
    const [r, g, b] = INFERNO_RGBA_F32.subarray(4 * i, 4 * i + 3);
    const y = luminance(r, g, b);
    assert.ok(y > prev, `luminance not increasing at ${i}`);
    prev = y;
    for (let k = 0; k < 3; k++) {
      const f = INFERNO_RGBA_F32[4 * i + k] * 255;
      assert.ok(INFERNO_RGBA8[4 * i + k] <= f + 1e-4 && f - INFERNO_RGBA8[4 * i + k] < 1);
    }
  }
});

Deno.test("lutIndex follows matplotlib: floor(t * 256), 1 -> 255, clamped", () => {
  assert.equal(lutIndex(0), 0);
  assert.equal(lutIndex(-3), 0);
  assert.equal(lutIndex(0.5), 128);
  assert.equal(lutIndex(255.5 / 256), 255);
  assert.equal(lutIndex(1), 255);
  assert.equal(lutIndex(7), 255);
});

Deno.test("colorize: ramp maps through the LUT, clamps outside [lo, hi], NaN is black", () => {
  const lo = -2, hi = 6, n = 9;
  const ramp = new Float32Array(n + 3);
  for (let i = 0; i < n; i++) ramp[i] = lo + ((hi - lo) * i) / (n - 1);
  ramp[n] = -100;
  ramp[n + 1] = 100;
  ramp[n + 2] = NaN;
  const rgba = colorize(ramp, lo, hi);
  assert.equal(rgba.length, 4 * ramp.length);
  const px = (i: number) => Array.from(rgba.subarray(4 * i, 4 * i + 4));
  const lut = (k: number) => Array.from(INFERNO_RGBA8.subarray(4 * k, 4 * k + 4));
  for (let i = 0; i < n; i++) {
    const t = i / (n - 1);
    assert.deepEqual(px(i), lut(Math.min(Math.floor(t * 256), 255)));
  }
  assert.deepEqual(px(0), lut(0));
  assert.deepEqual(px(n - 1), lut(255));
  assert.deepEqual(px(n), lut(0));
  assert.deepEqual(px(n + 1), lut(255));
  assert.deepEqual(px(n + 2), [0, 0, 0, 255]);
  // Brighter along the ramp.
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const [r, g, b] = px(i);
    const y = luminance(r / 255, g / 255, b / 255);
    assert.ok(y > prev);
    prev = y;
  }
  // Degenerate range: everything maps to the first entry rather than NaN.
  assert.deepEqual(Array.from(colorize(new Float32Array([3, 3]), 3, 3)), [...lut(0), ...lut(0)]);
});

Deno.test("overlay blends heat over the image with alpha", () => {
  const image: RgbImage = { width: 2, height: 1, data: new Float32Array([0, 1, 0.2, 0.6, 1, 0]) };
  const heat = new Uint8Array([255, 0, 100, 255, 10, 20, 30, 0]); // second pixel transparent
  assert.deepEqual(Array.from(overlay(image, heat, 0)), [0, 51, 255, 255, 255, 153, 0, 255]);
  assert.deepEqual(Array.from(overlay(image, heat, 1)), [255, 0, 100, 255, 255, 153, 0, 255]);
  assert.deepEqual(
    Array.from(overlay(image, heat)),
    [Math.round(127.5), Math.round(25.5), Math.round(177.5), 255, 255, 153, 0, 255],
  );
  assert.throws(() => overlay(image, new Uint8Array(4)), /heatmap has 1 pixels/);
});
