/**
 * PNG encoding (8-bit) for heatmaps, overlays and masks.
 * @module
 */

import { encode } from "fast-png";
import type { RgbImage } from "./types.ts";

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
  const png = encode({ width, height, data: pixels, channels, depth: 8 }, { zlib: { level } });
  // Copy onto a fresh ArrayBuffer so callers get an exact-length, ArrayBuffer-backed array.
  return new Uint8Array(png);
}

/** Encode a planar RGB image (values in [0, 1]) as an 8-bit RGB PNG. */
export function encodeImagePng(image: RgbImage): Uint8Array<ArrayBuffer> {
  const n = image.width * image.height, rgb = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round(image.data[c * n + i] * 255);
  }
  return encodePng(image.width, image.height, rgb, 3);
}
