/**
 * Rendering a decision: the region mask as a 0/255 grayscale PNG, and region outlines (and
 * optionally boxes) drawn on an interleaved RGB8 buffer such as the overlay. Pure functions.
 * @module
 */
import { encodePng } from "./encode.ts";

/** What {@link drawBoxes} needs of a region: its bounding box. */
export interface Boxed {
  bbox: { x: number; y: number; width: number; height: number };
}

/** An RGB colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];

/** Default outline colour (bright green: visible on the inferno overlay). */
export const OUTLINE_COLOR: Rgb = [0, 255, 0];

/** A mask (nonzero = region) as 8-bit gray: 255 inside, 0 outside. */
export function maskToGray(mask: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? 255 : 0;
  return out;
}

/** The region mask as a grayscale PNG (0/255) of `width`×`height`. */
export function encodeMaskPng(
  mask: ArrayLike<number>,
  width: number,
  height: number,
): Uint8Array<ArrayBuffer> {
  if (mask.length !== width * height) {
    throw new Error(`encodeMaskPng: mask has ${mask.length} values, ${width}x${height} expected`);
  }
  return encodePng(width, height, maskToGray(mask), 1);
}

/**
 * The outline of a mask: region pixels with at least one 4-neighbour outside the region (pixels
 * on the image edge count as outline). 1 = outline pixel.
 */
export function maskOutline(mask: ArrayLike<number>, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      if (
        x === 0 || y === 0 || x === width - 1 || y === height - 1 || !mask[i - 1] ||
        !mask[i + 1] || !mask[i - width] || !mask[i + width]
      ) out[i] = 1;
    }
  }
  return out;
}

/**
 * A copy of `rgb` (interleaved RGB8, `width`×`height`) with the outline of `mask` painted in
 * `color`; `thickness` > 1 also paints outline pixels' neighbours within that Chebyshev
 * distance − 1 (outside the region too).
 */
export function drawOutlines(
  rgb: Uint8Array,
  width: number,
  height: number,
  mask: ArrayLike<number>,
  color: Rgb = OUTLINE_COLOR,
  thickness = 1,
): Uint8Array {
  checkRgb(rgb, width, height);
  const out = rgb.slice();
  const edge = maskOutline(mask, width, height);
  const r = Math.max(0, Math.floor(thickness) - 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!edge[y * width + x]) continue;
      for (let yy = Math.max(0, y - r); yy <= Math.min(height - 1, y + r); yy++) {
        for (let xx = Math.max(0, x - r); xx <= Math.min(width - 1, x + r); xx++) {
          paint(out, yy * width + xx, color);
        }
      }
    }
  }
  return out;
}

/** A copy of `rgb` with each region's bounding box drawn as a 1-pixel rectangle in `color`. */
export function drawBoxes(
  rgb: Uint8Array,
  width: number,
  height: number,
  regions: readonly Boxed[],
  color: Rgb = OUTLINE_COLOR,
): Uint8Array {
  checkRgb(rgb, width, height);
  const out = rgb.slice();
  for (const { bbox } of regions) {
    const x0 = Math.max(0, bbox.x), y0 = Math.max(0, bbox.y);
    const x1 = Math.min(width - 1, bbox.x + bbox.width - 1);
    const y1 = Math.min(height - 1, bbox.y + bbox.height - 1);
    if (x0 > x1 || y0 > y1) continue;
    for (let x = x0; x <= x1; x++) {
      paint(out, y0 * width + x, color);
      paint(out, y1 * width + x, color);
    }
    for (let y = y0; y <= y1; y++) {
      paint(out, y * width + x0, color);
      paint(out, y * width + x1, color);
    }
  }
  return out;
}

function paint(out: Uint8Array, i: number, c: Rgb): void {
  out[3 * i] = c[0];
  out[3 * i + 1] = c[1];
  out[3 * i + 2] = c[2];
}

function checkRgb(rgb: Uint8Array, width: number, height: number): void {
  if (rgb.length !== 3 * width * height) {
    throw new Error(`RGB8 buffer has ${rgb.length} bytes, ${3 * width * height} expected`);
  }
}
