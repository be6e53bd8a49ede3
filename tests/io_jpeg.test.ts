/**
 * JPEG decoding matches PIL exactly: fixtures made by tools/jpeg_fixtures.py (PIL 9.4 /
 * libjpeg-turbo) hold each JPEG and PIL's decoded RGB as a PNG. CMYK, which mozjpeg's RGBA output
 * cannot convert, goes through jpeg-js.
 */
import assert from "node:assert/strict";
import { decodeGrayMask, decodeImage } from "../src/io/decode.ts";

const DIR = new URL("./fixtures/jpeg/", import.meta.url);

function maxDiff255(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(Math.round(a[i] * 255) - Math.round(b[i] * 255)));
  }
  return m;
}

for (const name of ["q75", "q90", "q90_444", "q75_progressive", "gray_q80"]) {
  Deno.test(`JPEG ${name}: pixels identical to PIL's`, async () => {
    const jpg = decodeImage(await Deno.readFile(new URL(`${name}.jpg`, DIR)), name);
    const pil = decodeImage(await Deno.readFile(new URL(`${name}.png`, DIR)), name);
    assert.deepEqual([jpg.width, jpg.height], [67, 45]);
    assert.equal(maxDiff255(jpg.data, pil.data), 0);
    // Same floats, not only the same bytes (v / 255 as float32, like numpy).
    assert.deepEqual(jpg.data, pil.data);
  });
}

Deno.test("JPEG CMYK: read (jpeg-js), close to PIL's", async () => {
  const jpg = decodeImage(await Deno.readFile(new URL("cmyk_q90.jpg", DIR)), "cmyk");
  const pil = decodeImage(await Deno.readFile(new URL("cmyk_q90.png", DIR)), "cmyk");
  assert.deepEqual([jpg.width, jpg.height], [67, 45]);
  assert.ok(maxDiff255(jpg.data, pil.data) <= 80, `${maxDiff255(jpg.data, pil.data)}`);
});

Deno.test("JPEG masks: first channel, and a gray JPEG's values", async () => {
  const bytes = await Deno.readFile(new URL("gray_q80.jpg", DIR));
  const mask = decodeGrayMask(bytes, "m");
  const pil = decodeImage(await Deno.readFile(new URL("gray_q80.png", DIR)), "m");
  assert.equal(mask.data.length, 67 * 45);
  for (let i = 0; i < mask.data.length; i++) {
    assert.equal(mask.data[i], Math.round(pil.data[i] * 255));
  }
});

Deno.test("JPEG: garbled entropy data decodes or fails in one line naming the file", () => {
  const bytes = Deno.readFileSync(new URL("q90.jpg", DIR)).slice();
  // Garble the scan data but keep the markers intact.
  const sos = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xda);
  for (let i = sos + 20; i < bytes.length - 4; i++) {
    if (bytes[i] !== 0xff) bytes[i] = (bytes[i] * 7) & 0x7f;
  }
  try {
    decodeImage(bytes, "bad.jpg");
  } catch (e) {
    assert.match((e as Error).message, /^bad\.jpg: /);
    assert.ok(!(e as Error).message.includes("\n"));
  }
});
