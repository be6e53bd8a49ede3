import assert from "node:assert/strict";
import { resizeImage } from "../src/io/resize.ts";
import type { RgbImage } from "../src/io/types.ts";

/** Planar RGB image whose channel `c` at (x, y) is `f(x, y, c)`. */
function image(w: number, h: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = f(x, y, c);
  }
  return { width: w, height: h, data };
}

function at(img: RgbImage, x: number, y: number, c: number): number {
  return img.data[(c * img.height + y) * img.width + x];
}

Deno.test("resize: constant image stays constant (up, down, non-integer factors)", () => {
  const src = image(37, 23, (_x, _y, c) => [0.25, 0.5, 0.875][c]);
  for (const [w, h] of [[11, 7], [80, 51], [37, 9], [5, 23], [1, 1]]) {
    const out = resizeImage(src, w, h);
    assert.equal(out.data.length, 3 * w * h);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < w * h; i++) {
        assert.ok(Math.abs(out.data[c * w * h + i] - [0.25, 0.5, 0.875][c]) < 1e-6);
      }
    }
  }
});

Deno.test("resize: equal size is an identical copy", () => {
  const src = image(9, 6, (x, y, c) => ((x * 7 + y * 3 + c) % 11) / 10);
  const out = resizeImage(src, 9, 6);
  assert.deepEqual(out.data, src.data);
  assert.notEqual(out.data, src.data);
});

Deno.test("resize: a linear ramp stays linear in the interior", () => {
  // Half-pixel centres: output pixel i sits at input coordinate (i + 0.5) * in / out - 0.5.
  const ramp = (x: number, y: number) => 0.01 * x + 0.003 * y + 0.1;
  const src = image(64, 48, (x, y) => ramp(x, y));
  for (const [w, h, margin] of [[16, 12, 1], [32, 24, 1], [150, 100, 2]]) {
    const out = resizeImage(src, w, h);
    const sx = 64 / w, sy = 48 / h;
    for (let y = margin; y < h - margin; y++) {
      for (let x = margin; x < w - margin; x++) {
        const expected = ramp((x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5);
        assert.ok(Math.abs(at(out, x, y, 1) - expected) < 1e-5, `${w}x${h} at ${x},${y}`);
      }
    }
  }
});

Deno.test("resize: 2x downscale uses PIL's antialiased [1,3,3,1]/8 kernel, renormalised at borders", () => {
  // Columns alternate 0, 1, 0, 1, ...
  const src = image(8, 1, (x) => x % 2);
  const out = resizeImage(src, 4, 1);
  // Interior: 1/8*1 + 3/8*0 + 3/8*1 + 1/8*0 = 0.5. Left border: taps 0..2 (values 0, 1, 0) with weights 3, 3, 1 / 7.
  assert.ok(Math.abs(at(out, 1, 0, 0) - 0.5) < 1e-7);
  assert.ok(Math.abs(at(out, 2, 0, 0) - 0.5) < 1e-7);
  assert.ok(Math.abs(at(out, 0, 0, 0) - 3 / 7) < 1e-7);
  // Right border: taps 5..7 (values 1, 0, 1) with weights 1, 3, 3 / 7.
  assert.ok(Math.abs(at(out, 3, 0, 0) - 4 / 7) < 1e-7);
});

Deno.test("resize: refuses non-positive or fractional sizes", () => {
  const src = image(4, 4, () => 0);
  assert.throws(() => resizeImage(src, 0, 4), /positive integers/);
  assert.throws(() => resizeImage(src, 4, 2.5), /positive integers/);
});
