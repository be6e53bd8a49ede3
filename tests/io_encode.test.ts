/** PNG encoding: every row filter round-trips through two decoders; the chosen defaults. */
import assert from "node:assert/strict";
import { decode as fastPngDecode } from "../src/base/npm/fast_png.ts";
import { decodeImage } from "../src/io/decode.ts";
import {
  encodePng,
  filterRows,
  HEATMAP_PNG,
  PNG_FILTER,
  PNG_LEVEL,
  type PngFilter,
} from "../src/io/encode.ts";
import { rng } from "./_shared.ts";

const FILTERS: PngFilter[] = ["none", "sub", "up", "average", "paeth", "adaptive"];

function pixels(w: number, h: number, c: number): Uint8Array {
  const r = rng(11), out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        out[(y * w + x) * c + k] = (x * 3 + y * 5 * (k + 1) + Math.floor(r() * 40)) & 255;
      }
    }
  }
  return out;
}

for (const filter of FILTERS) {
  Deno.test(`PNG filter ${filter}: gray, RGB and RGBA round-trip exactly`, () => {
    for (const c of [1, 3, 4] as const) {
      const w = 23, h = 9, px = pixels(w, h, c);
      const png = encodePng(w, h, px, c, 3, filter);
      const lib = fastPngDecode(png);
      assert.deepEqual([lib.width, lib.height, lib.channels], [w, h, c]);
      assert.deepEqual(new Uint8Array(lib.data as Uint8Array), px);
      if (c === 3) {
        const ours = decodeImage(png);
        for (let i = 0; i < w * h; i++) {
          assert.equal(Math.round(ours.data[i] * 255), px[3 * i]);
        }
      }
    }
  });
}

Deno.test("PNG filters: the filter type byte leads each row; defaults as measured", () => {
  const raw = filterRows(pixels(4, 3, 3), 4, 3, 3, "up");
  assert.deepEqual([raw[0], raw[13], raw[26]], [2, 2, 2]);
  const adaptive = filterRows(pixels(4, 3, 3), 4, 3, 3, "adaptive");
  assert.ok([0, 13, 26].every((o) => adaptive[o] >= 0 && adaptive[o] <= 4));
  assert.deepEqual([PNG_FILTER, PNG_LEVEL], ["up", 3]);
  assert.deepEqual(HEATMAP_PNG, { filter: "none", level: 3 });
});
