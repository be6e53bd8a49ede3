/**
 * PNG encoding (8-bit) for heatmaps, overlays and masks. The compression is Deno's native zlib
 * (`node:zlib`), about twice as fast as a JavaScript deflate at the same level: at 1024² the
 * outputs' PNG encoding is most of the time spent writing them.
 * @module
 */

import { crc32, deflateSync } from "node:zlib";
import type { RgbImage } from "./types.ts";
import { concatBytes } from "../base/bytes.ts";

/** A zlib compression level. */
export type ZlibLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/**
 * Encode interleaved 8-bit pixels as a PNG.
 * @param pixels row-major, `width * height * channels` bytes (gray, RGB or RGBA)
 * @param level zlib level, 0–9 (6, zlib's default, unless given): lower is faster and larger
 * @throws Error when the buffer size does not match the dimensions.
 */
export function encodePng(
  width: number,
  height: number,
  pixels: Uint8Array,
  channels: 1 | 3 | 4,
  level: ZlibLevel = 6,
): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePng: invalid size ${width}x${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new Error(`encodePng: unsupported channel count ${channels} (1, 3 or 4)`);
  }
  if (pixels.length !== width * height * channels) {
    throw new Error(
      `encodePng: ${pixels.length} bytes given for ${width}x${height}x${channels} ` +
        `(${width * height * channels} expected)`,
    );
  }
  // Scanlines with filter type 0 (none): cheap, and zlib still finds the heatmaps' runs.
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const idat = deflateSync(raw, { level });
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, COLOR_TYPE[channels], 0, 0, 0], 8); // depth, colour type, deflate, filter, no interlace
  return concatBytes([
    PNG_SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", idat),
    chunk("IEND", new Uint8Array()),
  ]);
}

const PNG_SIGNATURE = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
/** PNG colour types: gray 0, RGB 2, RGBA 6. */
const COLOR_TYPE = { 1: 0, 3: 2, 4: 6 } as const;

/** A PNG chunk: length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

/** Encode a planar RGB image (values in [0, 1]) as an 8-bit RGB PNG. */
export function encodeImagePng(image: RgbImage): Uint8Array<ArrayBuffer> {
  const n = image.width * image.height, rgb = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round(image.data[c * n + i] * 255);
  }
  return encodePng(image.width, image.height, rgb, 3);
}
