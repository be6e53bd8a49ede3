import assert from "node:assert/strict";
import { decode as decodePngLib, encode as encodePngLib } from "../src/base/npm/fast_png.ts";
import { deflateSync } from "node:zlib";
import jpeg from "../src/base/npm/jpeg_js.ts";
import {
  decodeGrayMask,
  decodeImage,
  MAX_IMAGE_PIXELS,
  probeImageSize,
  readImage,
} from "../src/io/decode.ts";
import { encodePng } from "../src/io/encode.ts";
import { readNpy } from "../src/io/npy.ts";
import { exists, GOLDEN_DIR, rng, skipWithoutShared } from "./_shared.ts";

/** Interleaved test samples: channel k of pixel i is a deterministic pseudo-random value. */
function samples(n: number, max: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.floor(r() * (max + 1)));
}

/** Expected planar float RGB from interleaved samples: gray replicated, alpha dropped. */
function expectedRgb(src: ArrayLike<number>, w: number, h: number, ch: number, max: number) {
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = src[i * ch + (ch >= 3 ? c : 0)] / max;
  }
  return out;
}

for (const depth of [8, 16] as const) {
  for (const channels of [1, 2, 3, 4]) {
    Deno.test(`PNG ${depth}-bit ${channels}-channel round trip`, () => {
      const w = 13, h = 7, max = depth === 8 ? 255 : 65535;
      const vals = samples(w * h * channels, max, 10 * depth + channels);
      vals[0] = 0;
      vals[channels] = max; // both extremes present
      const data = depth === 8 ? new Uint8Array(vals) : new Uint16Array(vals);
      const bytes = encodePngLib({ width: w, height: h, data, channels, depth });
      const img = decodeImage(bytes, "rt.png");
      assert.equal(img.width, w);
      assert.equal(img.height, h);
      assert.deepEqual(img.data, expectedRgb(vals, w, h, channels, max));
      assert.deepEqual(probeImageSize(bytes), { width: w, height: h, format: "png" });
    });
  }
}

/**
 * A PNG written here with a chosen filter type per row (PNG spec §9, forward direction), so that
 * every filter the decoder undoes is exercised; `bytes` are the big-endian sample bytes.
 */
function filteredPng(
  w: number,
  h: number,
  colorType: number,
  depth: 8 | 16,
  bytes: Uint8Array,
  filters: number[],
): Uint8Array {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType]!;
  const bpp = (channels * depth) / 8, stride = w * bpp;
  const raw = new Uint8Array((stride + 1) * h);
  const at = (y: number, i: number) => (y < 0 || i < 0 ? 0 : bytes[y * stride + i]);
  for (let y = 0; y < h; y++) {
    const f = filters[y % filters.length];
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = at(y, i), a = at(y, i - bpp), b = at(y - 1, i), c = at(y - 1, i - bpp);
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][f];
      raw[y * (stride + 1) + 1 + i] = (x - pred) & 255;
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, bitwiseCrc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, w);
  new DataView(ihdr.buffer).setUint32(4, h);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array()),
  ];
  const png = new Uint8Array(parts.reduce((n, q) => n + q.length, 0));
  parts.reduce((o, q) => (png.set(q, o), o + q.length), 0);
  return png;
}

Deno.test("PNG rows with every filter type (None, Sub, Up, Average, Paeth), 8 and 16 bit", () => {
  const w = 13, h = 11;
  for (const [colorType, channels] of [[0, 1], [2, 3], [4, 2], [6, 4]]) {
    for (const depth of [8, 16] as const) {
      const max = depth === 8 ? 255 : 65535;
      // Full-range noise, and four levels (ties between Paeth's predictors are then common).
      for (const top of [max, 3]) {
        const vals = samples(w * h * channels, top, 31 * colorType + depth + top);
        const bytes = new Uint8Array((vals.length * depth) / 8);
        vals.forEach((v, i) => depth === 8 ? (bytes[i] = v) : bytes.set([v >> 8, v & 255], 2 * i));
        // Row 0 with each filter (no row above), then all filters mixed in the rows below.
        for (const first of [0, 1, 2, 3, 4]) {
          const png = filteredPng(w, h, colorType, depth, bytes, [first, 4, 3, 2, 1, 0, 4, 4, 3]);
          const name = `type ${colorType}, ${depth}-bit, first filter ${first}`;
          assert.deepEqual(decodeImage(png).data, expectedRgb(vals, w, h, channels, max), name);
          const reference = decodePngLib(png, { checkCrc: true }); // an independent decoder
          assert.deepEqual([...reference.data], vals, name);
        }
      }
    }
  }
  const good = filteredPng(w, h, 2, 8, new Uint8Array(w * h * 3), [1]);
  const badFilter = filteredPng(w, h, 2, 8, new Uint8Array(w * h * 3), [1, 1, 5]);
  assert.equal(decodeImage(good).width, w);
  assertFails(() => decodeImage(badFilter, "f.png"), "f.png", /unknown filter type 5 in row 2/);
  const short = filteredPng(w, h - 1, 2, 8, new Uint8Array(w * (h - 1) * 3), [0]);
  new DataView(short.buffer).setUint32(20, h); // the header claims one more row than stored
  const ihdrCrc = bitwiseCrc32(short.subarray(12, 29));
  new DataView(short.buffer).setUint32(29, ihdrCrc);
  assertFails(() => decodeImage(short, "s.png"), "s.png", /shorter than the header declares/);
  // A tiny image whose data inflates to 64 MiB is refused without inflating it all.
  const bomb = filteredPng(4, 4, 2, 8, new Uint8Array(48), [0]);
  const idat = bomb.indexOf(0x49, 33); // the "I" of IDAT, after the signature and IHDR
  const payload = deflateSync(new Uint8Array(64 << 20));
  const chunk = new Uint8Array(12 + payload.length);
  new DataView(chunk.buffer).setUint32(0, payload.length);
  chunk.set(bomb.subarray(idat, idat + 4), 4);
  chunk.set(payload, 8);
  new DataView(chunk.buffer).setUint32(8 + payload.length, bitwiseCrc32(chunk.subarray(4, -4)));
  const bombed = new Uint8Array([...bomb.subarray(0, 33), ...chunk, ...bomb.subarray(-12)]);
  assertFails(() => decodeImage(bombed, "b.png"), "b.png", /inflates beyond the 52 bytes/);
});

Deno.test("PNG palette (8-bit and 4-bit indices, with tRNS) decodes to palette colours", () => {
  const palette = [[10, 20, 30], [200, 100, 0], [0, 255, 128], [255, 255, 255], [1, 2, 3]];
  for (const depth of [8, 4] as const) {
    const w = 9, h = 5;
    const idx = samples(w * h, palette.length - 1, depth);
    const rowBytes = Math.ceil((w * depth) / 8);
    const data = new Uint8Array(rowBytes * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = idx[y * w + x];
        if (depth === 8) data[y * rowBytes + x] = v;
        else data[y * rowBytes + (x >> 1)] |= x % 2 === 0 ? v << 4 : v;
      }
    }
    const withAlpha = depth === 4 ? palette.map((c, i) => [...c, 40 * i]) : palette;
    const bytes = encodePngLib({
      width: w,
      height: h,
      data,
      channels: 1,
      depth,
      palette: withAlpha,
    });
    const rgb = idx.flatMap((i) => palette[i]);
    assert.deepEqual(decodeImage(bytes, "pal.png").data, expectedRgb(rgb, w, h, 3, 255));
    // A mask stored as a palette image reads the palette's first (red) component.
    assert.deepEqual(
      decodeGrayMask(bytes, "pal.png").data,
      new Uint8Array(idx.map((i) => palette[i][0])),
    );
  }
});

Deno.test("PNG 1-bit and 2-bit gray scale to [0, 1]", () => {
  for (const depth of [1, 2] as const) {
    const w = 11, h = 3, max = (1 << depth) - 1;
    const vals = samples(w * h, max, 77 + depth);
    const rowBytes = Math.ceil((w * depth) / 8);
    const data = new Uint8Array(rowBytes * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const bit = x * depth;
        data[y * rowBytes + (bit >> 3)] |= vals[y * w + x] << (8 - depth - (bit & 7));
      }
    }
    const bytes = encodePngLib({ width: w, height: h, data, channels: 1, depth });
    assert.deepEqual(decodeImage(bytes).data, expectedRgb(vals, w, h, 1, max));
    const mask = decodeGrayMask(bytes);
    assert.deepEqual(mask.data, new Uint8Array(vals.map((v) => Math.round((v * 255) / max))));
  }
});

Deno.test("decodeGrayMask: first channel, 16-bit scaled to 8-bit", () => {
  const w = 6, h = 4;
  const vals = samples(w * h * 2, 65535, 5);
  vals[0] = 65535;
  vals[2] = 0;
  const bytes = encodePngLib({
    width: w,
    height: h,
    data: new Uint16Array(vals),
    channels: 2,
    depth: 16,
  });
  const mask = decodeGrayMask(bytes, "m.png");
  assert.equal(mask.width, w);
  assert.equal(mask.height, h);
  const expected = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) expected[i] = Math.round((vals[2 * i] * 255) / 65535);
  assert.deepEqual(mask.data, expected);
  assert.equal(mask.data[0], 255);
  assert.equal(mask.data[1], 0);
});

Deno.test("encodePng round-trips gray, RGB and RGBA bytes", () => {
  const w = 10, h = 6;
  for (const ch of [1, 3, 4] as const) {
    const px = new Uint8Array(samples(w * h * ch, 255, ch));
    const bytes = encodePng(w, h, px, ch);
    assert.deepEqual(decodeImage(bytes).data, expectedRgb(px, w, h, ch, 255));
    if (ch === 1) assert.deepEqual(decodeGrayMask(bytes).data, px);
  }
  assert.throws(() => encodePng(w, h, new Uint8Array(5), 3), /5 bytes given for 10x6x3/);
});

Deno.test("encodePng writes valid chunks: signature, IHDR fields, CRC-32 of every chunk", () => {
  const w = 7, h = 5;
  const bytes = encodePng(w, h, new Uint8Array(samples(w * h * 4, 255, 4)), 4);
  assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const types: string[] = [];
  for (let at = 8; at < bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    types.push(type);
    if (type === "IHDR") {
      assert.deepEqual([view.getUint32(at + 8), view.getUint32(at + 12)], [w, h]);
      assert.deepEqual([...bytes.subarray(at + 16, at + 21)], [8, 6, 0, 0, 0]);
    }
    const crc = bitwiseCrc32(bytes.subarray(at + 4, at + 8 + length));
    assert.equal(view.getUint32(at + 8 + length), crc, `${type} CRC`);
    at += 12 + length;
  }
  assert.deepEqual(types, ["IHDR", "IDAT", "IEND"]);
});

/** CRC-32 (ISO-HDLC, as in PNG), bit by bit: an independent check of the encoder's. */
function bitwiseCrc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A smooth RGBA test pattern (JPEG is lossy; smooth content keeps the error small). */
function smoothRgba(w: number, h: number): Uint8Array {
  const px = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 4 * (y * w + x);
      px[o] = 40 + 4 * x;
      px[o + 1] = 200 - 3 * y;
      px[o + 2] = 100 + 2 * x + y;
      px[o + 3] = 255;
    }
  }
  return px;
}

Deno.test("JPEG baseline (jpeg-js encoder) decodes close to the original", () => {
  const w = 40, h = 24;
  const px = smoothRgba(w, h);
  const bytes = new Uint8Array(jpeg.encode({ width: w, height: h, data: px }, 95).data);
  const img = decodeImage(bytes, "a.jpg");
  assert.deepEqual([img.width, img.height], [w, h]);
  assert.deepEqual(probeImageSize(bytes), { width: w, height: h, format: "jpeg" });
  const expected = expectedRgb(px, w, h, 4, 255);
  let maxErr = 0;
  for (let i = 0; i < expected.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(img.data[i] - expected[i]));
  }
  assert.ok(maxErr < 0.04, `max error ${maxErr}`);
});

// 24x16 JPEGs made with libjpeg-turbo's cjpeg -quality 95 (-progressive, -grayscale input) from
// the analytic patterns below, so decoding can be checked without an encoder for these modes.
// RGB (progressive, 4:4:4): (40 + 8x, 30 + 10y, 120 + 2x + 3y); gray: 30 + 6x + 5y.
const PROG_RGB =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wgARCAAQABgDAREAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABgQH/8QAGQEAAgMBAAAAAAAAAAAAAAAAAwYEBQcI/9oADAMBAAIQAxAAAAHE9HjKhPqoL9fW8eqhPqoL9//EABYQAAMAAAAAAAAAAAAAAAAAAAAEBf/aAAgBAQABBQJOGJwxOGJwxOGJwz//xAAYEQEBAQEBAAAAAAAAAAAAAAAFAGEhMf/aAAgBAwEBPwE5TY5TY5Tzscpscpscpt//xAAWEQADAAAAAAAAAAAAAAAAAAAAAQT/2gAIAQIBAT8BdA6B0DoHQOg//8QAFRABAQAAAAAAAAAAAAAAAAAAADL/2gAIAQEABj8ChCEIQ//EABYQAAMAAAAAAAAAAAAAAAAAAAAxwf/aAAgBAQABPyFECIEQIgRAiD//2gAMAwEAAgADAAAAEMV7v//EABYRAQEBAAAAAAAAAAAAAAAAADEAEP/aAAgBAwEBPxAoWIKFCn//xAAVEQEBAAAAAAAAAAAAAAAAAAAAYf/aAAgBAgEBPxCy66667//EABUQAQEAAAAAAAAAAAAAAAAAABAR/9oACAEBAAE/EFjGVYxn/9k=";
const GRAY_BASELINE =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/wAALCAAQABgBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APhH4JfCT/U/6L6dq+wPgl8JP9T/AKL6dq+wPgl8JP8AU/6L6dq+H/gl8JP9T/ovp2r7A+CXwk/1P+i+navsD4JfCT/U/wCi+nav/9k=";
const GRAY_PROGRESSIVE =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/wgALCAAQABgBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAB//aAAgBAQAAAAEIYGAPYGD/xAAVEAEBAAAAAAAAAAAAAAAAAAAFAP/aAAgBAQABBQIQmEJhCYQmEJhCb//EABYQAAMAAAAAAAAAAAAAAAAAAAABIv/aAAgBAQAGPwJSKRSKRSKT/8QAFBABAAAAAAAAAAAAAAAAAAAAIP/aAAgBAQABPyFO7u7/AP/aAAgBAQAAABAD/8QAFhAAAwAAAAAAAAAAAAAAAAAAAEGh/9oACAEBAAE/EJiJiJiJiJiJiP/Z";

function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function maxAnalyticError(b64: string, f: (x: number, y: number, c: number) => number): number {
  const img = decodeImage(fromBase64(b64), "fixture.jpg");
  assert.deepEqual([img.width, img.height], [24, 16]);
  let err = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 24; x++) {
        err = Math.max(err, Math.abs(img.data[(c * 16 + y) * 24 + x] - f(x, y, c) / 255));
      }
    }
  }
  return err;
}

Deno.test("JPEG progressive colour and grayscale (baseline, progressive) decode", () => {
  const rgb = (x: number, y: number, c: number) =>
    [40 + 8 * x, 30 + 10 * y, 120 + 2 * x + 3 * y][c];
  const gray = (x: number, y: number) => 30 + 6 * x + 5 * y;
  assert.ok(maxAnalyticError(PROG_RGB, rgb) < 0.03);
  assert.ok(maxAnalyticError(GRAY_BASELINE, gray) < 0.03);
  assert.ok(maxAnalyticError(GRAY_PROGRESSIVE, gray) < 0.03);
  // Gray JPEG: all three planes identical.
  const img = decodeImage(fromBase64(GRAY_BASELINE));
  const plane = 24 * 16;
  assert.deepEqual(img.data.subarray(0, plane), img.data.subarray(plane, 2 * plane));
  assert.deepEqual(img.data.subarray(0, plane), img.data.subarray(2 * plane));
});

function validPng(): Uint8Array {
  return encodePngLib({
    width: 32,
    height: 20,
    data: new Uint8Array(samples(32 * 20 * 3, 255, 9)),
    channels: 3,
  });
}

function validJpeg(): Uint8Array {
  return new Uint8Array(jpeg.encode({ width: 40, height: 24, data: smoothRgba(40, 24) }, 90).data);
}

/** Assert a one-line Error whose message names the file and matches `cause`. */
function assertFails(fn: () => unknown, name: string, cause: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.ok(e.message.startsWith(`${name}: `), e.message);
    assert.match(e.message, cause);
    assert.ok(!e.message.includes("\n"), `multi-line message: ${e.message}`);
    return true;
  });
}

Deno.test("bad input: empty, text, foreign formats", () => {
  assertFails(() => decodeImage(new Uint8Array(0), "empty.png"), "empty.png", /empty file/);
  const text = new TextEncoder().encode("hello, I am not an image\n");
  assertFails(() => decodeImage(text, "notes.png"), "notes.png", /not a PNG or JPEG image/);
  const gif = new TextEncoder().encode("GIF89a\x01\x00\x01\x00\x00\x00\x00;");
  assertFails(() => decodeImage(gif, "a.png"), "a.png", /unsupported image format GIF/);
  const bmp = new Uint8Array([0x42, 0x4d, 0x3a, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0]);
  assertFails(() => decodeImage(bmp, "b.jpg"), "b.jpg", /unsupported image format BMP/);
  const webp = new TextEncoder().encode("RIFF\x24\x00\x00\x00WEBPVP8 ");
  assertFails(() => decodeImage(webp, "c.png"), "c.png", /unsupported image format WebP/);
  assertFails(() => probeImageSize(gif, "a.png"), "a.png", /unsupported image format GIF/);
});

Deno.test("bad input: truncated PNG at any length is refused as truncated", () => {
  const png = validPng();
  for (const len of [4, 20, 40, png.length >> 1, png.length - 13, png.length - 1]) {
    assertFails(() => decodeImage(png.subarray(0, len), "t.png"), "t.png", /truncated PNG/);
  }
});

Deno.test("bad input: truncated JPEG (even at the last byte) is refused", () => {
  const jpg = validJpeg();
  for (const len of [3, 30, jpg.length >> 1, jpg.length - 2, jpg.length - 1]) {
    assertFails(() => decodeImage(jpg.subarray(0, len), "t.jpg"), "t.jpg", /truncated JPEG/);
  }
  // The intact file still decodes.
  assert.equal(decodeImage(jpg).width, 40);
});

Deno.test("bad input: corrupt PNG and JPEG data", () => {
  const png = validPng().slice();
  // Flip bytes inside the IDAT payload: the CRC no longer matches.
  const idat = new TextDecoder("latin1").decode(png).indexOf("IDAT");
  png[idat + 10] ^= 0xff;
  png[idat + 11] ^= 0x55;
  assertFails(() => decodeImage(png, "c.png"), "c.png", /corrupt PNG data/);
  const jpg = validJpeg().slice();
  const app0End = 4 + ((jpg[4] << 8) | jpg[5]); // the marker after the APP0 segment
  assert.equal(jpg[app0End], 0xff);
  jpg[app0End] = 0x12;
  assertFails(() => decodeImage(jpg, "c.jpg"), "c.jpg", /corrupt JPEG/);
});

/** A PNG signature and IHDR claiming `w` x `h` RGB, followed by nothing else. */
function pngHeaderOnly(w: number, h: number): Uint8Array {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const v = new DataView(b.buffer);
  v.setUint32(8, 13);
  b.set([0x49, 0x48, 0x44, 0x52], 12);
  v.setUint32(16, w);
  v.setUint32(20, h);
  b[24] = 8;
  b[25] = 2;
  return b;
}

Deno.test("absurd header dimensions are refused before any allocation", () => {
  assertFails(
    () => decodeImage(pngHeaderOnly(100000, 100000), "huge.png"),
    "huge.png",
    /100000x100000.*beyond the limit/,
  );
  assertFails(
    () => probeImageSize(pngHeaderOnly(100000, 100000), "huge.png"),
    "huge.png",
    /beyond the limit/,
  );
  // Within the per-side limit but over the pixel budget.
  assert.ok(60000 * 60000 > MAX_IMAGE_PIXELS);
  assertFails(
    () => decodeImage(pngHeaderOnly(60000, 60000), "big.png"),
    "big.png",
    /60000x60000.*beyond the limit/,
  );
  assertFails(() => decodeImage(pngHeaderOnly(0, 10), "z.png"), "z.png", /empty 0x10 image/);
  // JPEG: SOI + SOF0 declaring 65535 x 65535 (4.3 G pixels).
  const sof = new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xc0,
    0,
    11,
    8,
    0xff,
    0xff,
    0xff,
    0xff,
    1,
    1,
    0x11,
    0,
  ]);
  assertFails(() => decodeImage(sof, "huge.jpg"), "huge.jpg", /65535x65535.*beyond the limit/);
  assertFails(() => probeImageSize(sof, "huge.jpg"), "huge.jpg", /beyond the limit/);
});

Deno.test("readImage: missing path names the path", async () => {
  const path = "definitely/missing/image.png";
  await assert.rejects(readImage(path), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.message, `${path}: no such file`);
    return true;
  });
});

for (const dir of ["pipeline_magnetic_tile", "pipeline_fabric_stain_hsst"]) {
  const png = `${GOLDEN_DIR}/${dir}/image.png`;
  const npy = `${GOLDEN_DIR}/${dir}/image_rgb_float.npy`;
  Deno.test({
    name: `decodeImage equals PIL convert('RGB')/255 exactly: ${dir}`,
    ignore: skipWithoutShared(exists(png), exists(npy)),
    fn: async () => {
      const img = await readImage(png);
      const golden = await readNpy(npy);
      assert.deepEqual(golden.shape, [1, 3, img.height, img.width]);
      assert.deepEqual(img.data, golden.data);
    },
  });
}
