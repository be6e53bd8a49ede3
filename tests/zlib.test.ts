/**
 * The zlib interface (src/base/zlib.ts): Deno's native zlib and the portable fflate path the
 * browser app uses must agree: same CRC-32s, each inflates the other's streams to the same bytes,
 * both refuse output beyond the cap; and a PNG compressed by the portable path decodes to the
 * same pixels.
 */
import assert from "node:assert/strict";
import { InflateLimitError, portableZlib, zlib } from "../src/base/zlib.ts";
import { decodeImage } from "../src/io/decode.ts";
import { encodePng } from "../src/io/encode.ts";
import { rng } from "./_shared.ts";

/** Bytes with some structure (runs and noise), as image rows have. */
function sample(n: number, seed: number): Uint8Array {
  const r = rng(seed), out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r() < 0.3 ? out[Math.max(0, i - 1)] : Math.floor(r() * 256);
  return out;
}

Deno.test("zlib: Deno runs the native implementation; the portable one is fflate", () => {
  assert.equal(zlib.name, "node:zlib");
  assert.equal(portableZlib.name, "fflate");
});

Deno.test("zlib: CRC-32 of both equals the standard check value and each other", () => {
  const check = new TextEncoder().encode("123456789");
  assert.equal(zlib.crc32(check), 0xcbf43926);
  assert.equal(portableZlib.crc32(check), 0xcbf43926);
  assert.equal(portableZlib.crc32(new Uint8Array()), 0);
  for (const n of [1, 7, 1000, 100_000]) {
    const data = sample(n, n);
    assert.equal(portableZlib.crc32(data), zlib.crc32(data), `${n} bytes`);
  }
});

Deno.test("zlib: each implementation inflates the other's streams to the same bytes", () => {
  for (const n of [0, 1, 5000, 300_000]) {
    const data = sample(n, 3 + n);
    for (const level of [0, 3, 9]) {
      const native = zlib.deflate(data, level), portable = portableZlib.deflate(data, level);
      for (const [stream, from] of [[native, "native"], [portable, "portable"]] as const) {
        assert.deepEqual(zlib.inflate(stream, n + 16), data, `native <- ${from}, ${n}, ${level}`);
        assert.deepEqual(
          portableZlib.inflate(stream, n + 16),
          data,
          `portable <- ${from}, ${n}, ${level}`,
        );
      }
    }
  }
});

Deno.test("zlib: output beyond the cap and corrupt streams are refused by both", () => {
  // A "zip bomb" in small: 4 MB of zeros compress to a few kB.
  const bomb = zlib.deflate(new Uint8Array(4 << 20), 9);
  for (const z of [zlib, portableZlib]) {
    assert.throws(() => z.inflate(bomb, 1 << 20), InflateLimitError, z.name);
    assert.equal(z.inflate(bomb, 4 << 20).length, 4 << 20, z.name);
    const corrupt = bomb.slice();
    corrupt[0] ^= 0xff; // the zlib header
    assert.throws(() => z.inflate(corrupt, 1 << 20), (e: unknown) => e instanceof Error, z.name);
    assert.throws(() => z.inflate(bomb.subarray(0, 20), 4 << 20), Error, `${z.name} truncated`);
  }
});

Deno.test("zlib: a PNG compressed by the portable path decodes to the same pixels", () => {
  const width = 37, height = 23, rgb = sample(width * height * 3, 11);
  const native = encodePng(width, height, rgb, 3);
  // The same PNG with its IDAT re-compressed by fflate (chunk CRC by the portable CRC).
  const idat = portableZlib.deflate(zlib.inflate(idatOf(native), 1 << 20), 6);
  const portable = withIdat(native, idat);
  assert.notDeepEqual(portable, native, "the compressed bytes differ");
  assert.deepEqual(decodeImage(portable).data, decodeImage(native).data);
});

/** The IDAT payload of a PNG with one IDAT chunk. */
function idatOf(png: Uint8Array): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset);
  for (let o = 8; o < png.length;) {
    const len = view.getUint32(o);
    if (String.fromCharCode(...png.subarray(o + 4, o + 8)) === "IDAT") {
      return png.subarray(o + 8, o + 8 + len);
    }
    o += 12 + len;
  }
  throw new Error("no IDAT");
}

/** `png` with its single IDAT chunk's payload replaced (CRC recomputed). */
function withIdat(png: Uint8Array, payload: Uint8Array): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset);
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  for (let o = 8; o < png.length;) {
    const len = view.getUint32(o);
    const type = png.subarray(o + 4, o + 8);
    if (String.fromCharCode(...type) === "IDAT") {
      const chunk = new Uint8Array(12 + payload.length);
      const v = new DataView(chunk.buffer);
      v.setUint32(0, payload.length);
      chunk.set(type, 4);
      chunk.set(payload, 8);
      v.setUint32(8 + payload.length, portableZlib.crc32(chunk.subarray(4, 8 + payload.length)));
      parts.push(chunk);
    } else parts.push(png.subarray(o, o + 12 + len));
    o += 12 + len;
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}
