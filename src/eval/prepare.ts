/**
 * Bring an anomaly map and its ground-truth mask to the form that is scored, as the MVTec AD
 * evaluation does: resize (`--eval-size N`: both to N×N, masks counting any resized value above
 * 0 as defect; otherwise the map to the mask's size when they differ), then crop `crop` pixels
 * off every border.
 * @module
 */
import type { ScalarMap } from "../fca/types.ts";
import type { EvalSample } from "./pixel_metrics.ts";
import { skimageResize } from "./resize.ts";

/** A decoded 8-bit mask (nonzero = defect). */
export interface MaskPlane {
  width: number;
  height: number;
  data: Uint8Array;
}

/** How maps and masks are brought to the scored form. */
export interface PrepareOptions {
  /** Pixels removed at each border before scoring (default 0). */
  crop?: number;
  /** Resize maps and masks to this square size first (default: keep the mask's size). */
  evalSize?: number;
}

/** Resize and crop one map (and its mask, null for a good image) into a scored sample. */
export function prepareSample(
  map: ScalarMap,
  mask: MaskPlane | null,
  opts: PrepareOptions = {},
): EvalSample {
  const crop = opts.crop ?? 0;
  let scores: Float32Array = map.data, w = map.width, h = map.height;
  let bits: Uint8Array | null = null;
  if (opts.evalSize !== undefined) {
    const n = opts.evalSize;
    if (w !== n || h !== n) {
      scores = skimageResize({ width: w, height: h, data: map.data }, n, n).data;
    }
    w = h = n;
    if (mask) {
      const m = mask.width === n && mask.height === n
        ? Float64Array.from(mask.data)
        : skimageResize(
          { width: mask.width, height: mask.height, data: Float64Array.from(mask.data) },
          n,
          n,
        ).data;
      bits = new Uint8Array(n * n);
      for (let i = 0; i < bits.length; i++) bits[i] = m[i] > 0 ? 1 : 0;
    }
  } else if (mask) {
    if (mask.width !== w || mask.height !== h) {
      scores = skimageResize({ width: w, height: h, data: scores }, mask.height, mask.width).data;
      w = mask.width;
      h = mask.height;
    }
    bits = new Uint8Array(w * h);
    for (let i = 0; i < bits.length; i++) bits[i] = mask.data[i] ? 1 : 0;
  }
  if (crop > 0) {
    if (2 * crop >= w || 2 * crop >= h) {
      throw new Error(`--crop ${crop} leaves nothing of a ${w}x${h} map`);
    }
    scores = cropPlane(scores, w, h, crop);
    if (bits) bits = cropPlane(bits, w, h, crop);
    w -= 2 * crop;
    h -= 2 * crop;
  }
  return { width: w, height: h, scores, mask: bits };
}

function cropPlane<T extends Float32Array | Uint8Array>(
  data: T,
  w: number,
  h: number,
  c: number,
): T {
  const W = w - 2 * c, H = h - 2 * c;
  const out = new (data.constructor as new (n: number) => T)(W * H);
  for (let y = 0; y < H; y++) out.set(data.subarray((y + c) * w + c, (y + c) * w + c + W), y * W);
  return out;
}
