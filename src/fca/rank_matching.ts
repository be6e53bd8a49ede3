/**
 * Windowed rank matching, the heart of FCA (conventions 3–7 in docs/conventions.md), written for clarity: it
 * is the specification that the WGSL kernels and the fast CPU path are tested against.
 *
 * For every pixel (i, j) the T×T window of the reflect-padded map is taken. In each channel,
 * every value's error is its distance to the reference value of the same rank (ties broken in
 * raster order within the window); errors are averaged over channels, blurred by a 5×5 Gaussian
 * (σs) with reflect padding inside the window, weighted by the T×T Gaussian (σp) and added into
 * the map at the values' own positions. Contributions that fall outside the image are dropped
 * and nothing is normalised, so borders are attenuated as in the reference code.
 * @module
 */
import { BLUR_SIZE, gaussian1d, patchWeights, reflectIndex } from "./params.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "./types.ts";

/**
 * Per-window error map `M` (T×T, row-major) for the window centred at (i, j): mean over channels
 * of |x_k − ref[c, rank(x_k)]|.
 */
export function windowErrors(
  features: FeatureMap,
  reference: Float32Array,
  patch: number,
  i: number,
  j: number,
  out: Float64Array = new Float64Array(patch * patch),
): Float64Array {
  const { channels: C, height: H, width: W, data } = features;
  const area = patch * patch, half = patch >> 1;
  const values = new Float32Array(area);
  const order = Array.from({ length: area }, (_, k) => k);
  out.fill(0);
  for (let c = 0; c < C; c++) {
    const plane = c * H * W;
    for (let dy = 0; dy < patch; dy++) {
      const y = reflectIndex(i + dy - half, H);
      for (let dx = 0; dx < patch; dx++) {
        values[dy * patch + dx] = data[plane + y * W + reflectIndex(j + dx - half, W)];
      }
    }
    for (let k = 0; k < area; k++) order[k] = k;
    order.sort((a, b) => values[a] - values[b] || a - b); // stable: raster order breaks ties
    for (let rank = 0; rank < area; rank++) {
      const k = order[rank];
      out[k] += Math.abs(values[k] - reference[c * area + rank]);
    }
  }
  for (let k = 0; k < area; k++) out[k] /= C;
  return out;
}

/** 5×5 Gaussian blur of a T×T map with reflect padding inside the map (torchvision GaussianBlur). */
export function blurPatch(map: Float64Array, patch: number, sigmaS: number): Float64Array {
  const g = gaussian1d(BLUR_SIZE, sigmaS), r = BLUR_SIZE >> 1;
  const out = new Float64Array(patch * patch);
  for (let y = 0; y < patch; y++) {
    for (let x = 0; x < patch; x++) {
      let s = 0;
      for (let a = 0; a < BLUR_SIZE; a++) {
        const yy = reflectIndex(y + a - r, patch);
        for (let b = 0; b < BLUR_SIZE; b++) {
          s += g[a] * g[b] * map[yy * patch + reflectIndex(x + b - r, patch)];
        }
      }
      out[y * patch + x] = s;
    }
  }
  return out;
}

/** The FCA anomaly map at feature resolution (H×W), given scaled features and their reference. */
export function fcaMapReference(
  features: FeatureMap,
  reference: Float32Array,
  params: FcaParams,
): ScalarMap {
  const { height: H, width: W } = features;
  const T = params.patch;
  const weights = patchWeights(T, params.sigmaP);
  const acc = new Float64Array(H * W);
  const errors = new Float64Array(T * T);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      windowErrors(features, reference, T, i, j, errors);
      foldWindow(acc, H, W, errors, weights, params, i, j);
    }
  }
  return { height: H, width: W, data: Float32Array.from(acc) };
}

/**
 * Add the window centred at (i, j) into the H×W map `acc`: its error map blurred by σs (when on),
 * weighted by the σp `weights` and added at the values' own positions; contributions outside
 * the image are dropped (no normalisation).
 */
export function foldWindow(
  acc: Float64Array,
  H: number,
  W: number,
  errors: Float64Array,
  weights: Float32Array,
  params: FcaParams,
  i: number,
  j: number,
): void {
  const T = params.patch, half = T >> 1;
  const m = params.sigmaS > 0 ? blurPatch(errors, T, params.sigmaS) : errors;
  for (let dy = 0; dy < T; dy++) {
    const y = i + dy - half;
    if (y < 0 || y >= H) continue;
    for (let dx = 0; dx < T; dx++) {
      const x = j + dx - half;
      if (x < 0 || x >= W) continue;
      acc[y * W + x] += weights[dy * T + dx] * m[dy * T + dx];
    }
  }
}
