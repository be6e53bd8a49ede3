/**
 * Sample-weighted Wasserstein (paper Eq. 4; reference `ScSWW`, convention 11 in docs/conventions.md).
 *
 * Same windows and sort as FCA: for the reflect-padded T×T window centred at every pixel, each
 * channel's values are sorted and compared rank by rank with the reference (L1). Each rank's error
 * is weighted by the σ Gaussian at the spatial position the value came from, summed over ranks and
 * averaged over channels. The score belongs to the window centre only (no fold), so it works for
 * any H×W. Ties within a window are broken in raster order unless `ties` is `torch`.
 * @module
 */
import { patchWeights, reflectIndex } from "../params.ts";
import type { FeatureMap, ScalarMap } from "../types.ts";
import { stableArgsort } from "./stable_sort.ts";
import { torchSortOrder } from "./torch_sort.ts";

/**
 * How tied values inside a window are ordered: `stable` (raster order, the project's convention
 * for FCA) or `torch` (the reference code's default unstable CPU sort, which `sww.npy` used).
 */
export type TieOrder = "stable" | "torch";

/**
 * Loss of one window against `reference` [C, T*T]: mean over channels of
 * Σ_rank w(pos(rank))·|sorted[rank] − ref[c, rank]|.
 */
export function swwWindowLoss(
  features: FeatureMap,
  reference: Float32Array,
  weights: Float32Array,
  patch: number,
  i: number,
  j: number,
  ties: TieOrder = "stable",
): number {
  const { channels: C, height: H, width: W, data } = features;
  const area = patch * patch, half = patch >> 1;
  const values = new Float32Array(area);
  const order = new Int32Array(area), keys = new Float64Array(area);
  // Window offsets are the same in every channel: reflect once.
  const offsets = new Int32Array(area);
  for (let dy = 0; dy < patch; dy++) {
    const y = reflectIndex(i + dy - half, H) * W;
    for (let dx = 0; dx < patch; dx++) {
      offsets[dy * patch + dx] = y + reflectIndex(j + dx - half, W);
    }
  }
  let total = 0;
  for (let c = 0; c < C; c++) {
    const plane = c * H * W;
    for (let k = 0; k < area; k++) values[k] = data[plane + offsets[k]];
    if (ties === "torch") {
      for (let k = 0; k < area; k++) order[k] = k;
      torchSortOrder(values, order);
    } else stableArgsort(values, 0, area, keys, order);
    let s = 0;
    for (let rank = 0; rank < area; rank++) {
      const k = order[rank];
      s += weights[k] * Math.abs(values[k] - reference[c * area + rank]);
    }
    total += s;
  }
  return total / C;
}

/**
 * SWW anomaly map (H×W) of scaled `features` against `reference` [C, T*T], with spatial weights
 * the T×T Gaussian of `sigma` (the reference code's `sigma`; its golden run uses 3.0).
 */
export function swwMap(
  features: FeatureMap,
  reference: Float32Array,
  patch: number,
  sigma: number,
  ties: TieOrder = "stable",
): ScalarMap {
  const { channels: C, height: H, width: W } = features;
  if (reference.length !== C * patch * patch) {
    throw new Error(
      `stats/sww.ts: reference has ${reference.length} values, expected ${C}x${patch * patch}`,
    );
  }
  const weights = patchWeights(patch, sigma);
  const out = new Float32Array(H * W);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      out[i * W + j] = swwWindowLoss(features, reference, weights, patch, i, j, ties);
    }
  }
  return { height: H, width: W, data: out };
}
