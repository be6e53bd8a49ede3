/**
 * PNG encoding (8-bit) for heatmaps, overlays and masks. The compression is Deno's native zlib
 * (`node:zlib`, through `src/base/zlib.ts`; fflate in a browser), about twice as fast as a
 * JavaScript deflate at the same level: at 1024² the outputs' PNG encoding is most of the time
 * spent writing them.
 * @module
 */

import type { RgbImage } from "./types.ts";
import { concatBytes } from "../base/bytes.ts";
import { zlib } from "../base/zlib.ts";

/** A zlib compression level. */
export type ZlibLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/** A PNG row filter (the same for every row), or `adaptive`: per row, the least sum of |bytes|. */
export type PngFilter = "none" | "sub" | "up" | "average" | "paeth" | "adaptive";

/**
 * The default filter, for photo-like pixels (overlays, textures), chosen by measurement
 * (`deno run -A bench/png_filter.ts OUTPUTS...`, 1024² carpet outputs, 2-core EPYC, median of
 * 9): the overlay with Up at zlib level 3 takes 199 ms for 1.79 MB, against 274 ms for 2.62 MB
 * with no filter at level 6 (the former default); Paeth and Average are 3–8 % smaller but slower,
 * a per-row adaptive choice slower still. Heatmaps (smooth colormap runs) compress best
 * unfiltered: see {@link HEATMAP_PNG}.
 */
export const PNG_FILTER: PngFilter = "up";
/** The default zlib level (chosen with {@link PNG_FILTER}). */
export const PNG_LEVEL: ZlibLevel = 3;
/**
 * Heatmaps: no filter at level 3, 55 ms for 418 kB at 1024² (Up: 75 ms, 512 kB; the former
 * level 6: 142 ms, 322 kB). Heatmap and overlay together: 254 ms and 2.21 MB instead of 416 ms
 * and 2.94 MB.
 */
export const HEATMAP_PNG: { filter: PngFilter; level: ZlibLevel } = { filter: "none", level: 3 };

const FILTER_TYPE = { none: 0, sub: 1, up: 2, average: 3, paeth: 4 } as const;

/**
 * Scanlines for the IDAT stream: each row prefixed by its filter type byte and filtered (PNG
 * specification §9: Sub, Up, Average and Paeth predict each byte from its left, upper and
 * upper-left neighbours, modulo 256).
 */
export function filterRows(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  filter: PngFilter,
): Uint8Array {
  const stride = width * channels, bpp = channels;
  const raw = new Uint8Array((stride + 1) * height);
  const zero = new Uint8Array(stride);
  const scratch = filter === "adaptive" ? new Uint8Array(stride) : zero;
  for (let y = 0; y < height; y++) {
    const cur = pixels.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    const o = y * (stride + 1);
    const out = raw.subarray(o + 1, o + 1 + stride);
    if (filter !== "adaptive") {
      raw[o] = FILTER_TYPE[filter];
      applyFilter(FILTER_TYPE[filter], cur, up, out, bpp);
      continue;
    }
    let best = -1, bestSum = Infinity;
    for (let t = 0; t <= 4; t++) {
      applyFilter(t, cur, up, scratch, bpp);
      let sum = 0;
      for (let i = 0; i < stride; i++) sum += scratch[i] < 128 ? scratch[i] : 256 - scratch[i];
      if (sum < bestSum) [best, bestSum] = [t, sum];
    }
    raw[o] = best;
    applyFilter(best, cur, up, out, bpp);
  }
  return raw;
}

function applyFilter(t: number, cur: Uint8Array, up: Uint8Array, out: Uint8Array, bpp: number) {
  const n = cur.length;
  switch (t) {
    case 0:
      out.set(cur);
      return;
    case 1:
      for (let i = 0; i < n; i++) out[i] = cur[i] - (i >= bpp ? cur[i - bpp] : 0);
      return;
    case 2:
      for (let i = 0; i < n; i++) out[i] = cur[i] - up[i];
      return;
    case 3:
      for (let i = 0; i < n; i++) out[i] = cur[i] - (((i >= bpp ? cur[i - bpp] : 0) + up[i]) >> 1);
      return;
    default:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? cur[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        out[i] = cur[i] - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
  }
}

/**
 * Encode interleaved 8-bit pixels as a PNG.
 * @param pixels row-major, `width * height * channels` bytes (gray, RGB or RGBA)
 * @param level zlib level, 0–9 (default {@link PNG_LEVEL}): lower is faster and larger
 * @param filter row filter (default {@link PNG_FILTER})
 * @throws Error when the buffer size does not match the dimensions.
 */
export function encodePng(
  width: number,
  height: number,
  pixels: Uint8Array,
  channels: 1 | 3 | 4,
  level: ZlibLevel = PNG_LEVEL,
  filter: PngFilter = PNG_FILTER,
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
  const raw = filterRows(pixels, width, height, channels, filter);
  const idat = zlib.deflate(raw, level);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, COLOR_TYPE[channels], 0, 0, 0], 8); // depth, colour type, deflate, filter method 0, no interlace
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
  view.setUint32(8 + data.length, zlib.crc32(out.subarray(4, 8 + data.length)));
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
