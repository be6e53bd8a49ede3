/**
 * Bilinear resizing as `skimage.transform.resize(order=1, mode='reflect')` does it when
 * enlarging (convention 10 in docs/conventions.md): half-pixel centres, source coordinate
 * (i + 0.5)·h/H − 0.5, mirrored borders (…c b | a b c … — edge not repeated).
 * @module
 */
import { reflectIndex } from "./params.ts";
import type { ScalarMap } from "./types.ts";

/** Source taps and weights along one axis: for each output index, (i0, i1, w1). */
export function bilinearTaps(inSize: number, outSize: number): {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
} {
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize), w1 = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const f = Math.floor(src);
    i0[o] = reflectIndex(f, inSize);
    i1[o] = reflectIndex(f + 1, inSize);
    w1[o] = src - f;
  }
  return { i0, i1, w1 };
}

/** Resize `map` to `outHeight`×`outWidth` with skimage's order-1 convention. */
export function resizeBilinear(map: ScalarMap, outHeight: number, outWidth: number): ScalarMap {
  const { height: h, width: w, data } = map;
  const ys = bilinearTaps(h, outHeight), xs = bilinearTaps(w, outWidth);
  const out = new Float32Array(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    const r0 = ys.i0[y] * w, r1 = ys.i1[y] * w, wy = ys.w1[y];
    for (let x = 0; x < outWidth; x++) {
      const a = xs.i0[x], b = xs.i1[x], wx = xs.w1[x];
      const top = data[r0 + a] + (data[r0 + b] - data[r0 + a]) * wx;
      const bottom = data[r1 + a] + (data[r1 + b] - data[r1 + a]) * wx;
      out[y * outWidth + x] = top + (bottom - top) * wy;
    }
  }
  return { height: outHeight, width: outWidth, data: out };
}
