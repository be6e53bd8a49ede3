/**
 * Reference selection beyond the median (paper Sec. 3.3, Table 2): one random complete tile, and
 * per-window k nearest windows ("+ k-NN").
 *
 * The random reference follows the reference code's `reference_random`: a T×T tile of the
 * unpadded map whose values are sorted per channel, giving [C, T*T] like the median reference. Its
 * origin is drawn from a seeded generator over all complete tiles (the reference code draws with
 * torch's unseeded RNG and, by an off-by-one, never picks the last row/column of origins).
 *
 * The k-NN reference has no public reference implementation; this is the paper's description made
 * concrete. Candidate references are the complete (unpadded) T×T windows whose centres lie on a
 * grid of step `stride`, each sorted per channel. For every reflect-padded window of FCA, the
 * distance to a candidate is the 1-D Wasserstein distance summed over channels (Σ_c Σ_rank
 * |sorted − candidate|); candidates that overlap the window are skipped (they share its content,
 * anomalies included), and the k nearest remaining ones are the window's references. The window's
 * error map is the mean over those references of FCA's per-value error, so A = Σ_r S(·, F_r)
 * (Eq. 1) up to the constant 1/k; then the usual σs blur, σp weights and fold (FCA) or the σ
 * weighted sum (SWW). Cost is O(H·W · candidates · C · T²): use it on small feature maps (e.g.
 * 320² images with T = 3) or raise `stride`.
 * @module
 */
import { tileCounts } from "./median_reference.ts";
import { patchWeights, reflectIndex } from "./params.ts";
import { foldWindow } from "./rank_matching.ts";
import { randomInt, seededUniform } from "../base/rng.ts";
import { stableArgsort } from "./stats/stable_sort.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "./types.ts";

/** Random reference [C, T*T]: one complete T×T tile chosen by `seed`, sorted per channel. */
export function randomReference(features: FeatureMap, patch: number, seed: number): Float32Array {
  const { channels: C, height: H, width: W, data } = features;
  const [y0, x0] = randomReferenceOrigin(H, W, patch, seed);
  return sortedWindow(data, C, H, W, patch, y0, x0);
}

/**
 * Top-left corner `[y0, x0]` of the random reference's tile in an H×W map (throws when no
 * complete tile fits).
 */
export function randomReferenceOrigin(
  height: number,
  width: number,
  patch: number,
  seed: number,
): [number, number] {
  tileCounts(height, width, patch);
  const uniform = seededUniform(seed);
  return [randomInt(uniform, height - patch + 1), randomInt(uniform, width - patch + 1)];
}

/** The T×T window with top-left (y0, x0) of an unpadded H×W map, sorted per channel: [C, T*T]. */
export function sortedWindow(
  data: Float32Array,
  C: number,
  H: number,
  W: number,
  patch: number,
  y0: number,
  x0: number,
  out: Float32Array = new Float32Array(C * patch * patch),
): Float32Array {
  const area = patch * patch;
  for (let c = 0; c < C; c++) {
    const row = out.subarray(c * area, (c + 1) * area);
    for (let dy = 0; dy < patch; dy++) {
      for (let dx = 0; dx < patch; dx++) {
        row[dy * patch + dx] = data[c * H * W + (y0 + dy) * W + x0 + dx];
      }
    }
    row.sort();
  }
  return out;
}

/** Options of the k-NN reference. */
export interface KnnOptions {
  /** Number of nearest candidate windows averaged per window (default 10). */
  k?: number;
  /** Step between candidate window centres (default 1: every complete window). */
  stride?: number;
}

/** Default k of the k-NN reference (the paper does not state the value it used with FCA). */
export const DEFAULT_KNN_K = 10;

/** Sorted candidate windows and their centres. */
interface Candidates {
  sorted: Float32Array; // [n][C][T*T]
  cy: Int32Array;
  cx: Int32Array;
}

function candidates(features: FeatureMap, patch: number, stride: number): Candidates {
  const { channels: C, height: H, width: W, data } = features;
  tileCounts(H, W, patch);
  const half = patch >> 1, size = C * patch * patch;
  const ys: number[] = [], xs: number[] = [];
  for (let y = half; y + half < H; y += stride) {
    for (let x = half; x + half < W; x += stride) {
      ys.push(y);
      xs.push(x);
    }
  }
  const sorted = new Float32Array(ys.length * size);
  for (let n = 0; n < ys.length; n++) {
    sortedWindow(
      data,
      C,
      H,
      W,
      patch,
      ys[n] - half,
      xs[n] - half,
      sorted.subarray(n * size, (n + 1) * size),
    );
  }
  return { sorted, cy: Int32Array.from(ys), cx: Int32Array.from(xs) };
}

/**
 * Per-window k-NN error maps: calls `visit(i, j, M)` for every pixel with the T×T error map M of
 * the reflect-padded window centred there (mean over its k nearest non-overlapping candidates and
 * over channels of |x − candidate[c, rank(x)]|, raster-order ties).
 */
export function forEachKnnWindow(
  features: FeatureMap,
  patch: number,
  options: KnnOptions,
  visit: (i: number, j: number, errors: Float64Array) => void,
): void {
  const k = options.k ?? DEFAULT_KNN_K, stride = options.stride ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`references.ts: knn k must be >= 1, got ${k}`);
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`references.ts: knn stride must be >= 1, got ${stride}`);
  }
  const { channels: C, height: H, width: W, data } = features;
  const area = patch * patch, half = patch >> 1, size = C * area;
  const cand = candidates(features, patch, stride);
  const nCand = cand.cy.length;
  const values = new Float32Array(size), sorted = new Float32Array(size);
  const rankOf = new Int32Array(size);
  const order = new Int32Array(area), keys = new Float64Array(area);
  const offsets = new Int32Array(area);
  const kMax = Math.min(k, nCand);
  const bestDist = new Float64Array(kMax), bestIdx = new Int32Array(kMax);
  const errors = new Float64Array(area);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      for (let dy = 0; dy < patch; dy++) {
        const y = reflectIndex(i + dy - half, H) * W;
        for (let dx = 0; dx < patch; dx++) {
          offsets[dy * patch + dx] = y + reflectIndex(j + dx - half, W);
        }
      }
      for (let c = 0; c < C; c++) {
        const plane = c * H * W, off = c * area;
        for (let q = 0; q < area; q++) values[off + q] = data[plane + offsets[q]];
        stableArgsort(values, off, area, keys, order);
        for (let r = 0; r < area; r++) {
          sorted[off + r] = values[off + order[r]];
          rankOf[off + order[r]] = r;
        }
      }
      // Keep the k best (distance, index) pairs sorted; abandon a candidate as soon as its
      // partial sum exceeds the current k-th distance (terms are non-negative).
      let kk = 0;
      for (let n = 0; n < nCand; n++) {
        // Overlapping windows share the query's content (anomalies too): never a reference.
        if (Math.abs(cand.cy[n] - i) < patch && Math.abs(cand.cx[n] - j) < patch) continue;
        const bound = kk === kMax ? bestDist[kMax - 1] : Infinity;
        const base = n * size;
        let d = 0;
        for (let c = 0; c < C && d <= bound; c++) {
          const off = c * area;
          for (let q = off; q < off + area; q++) d += Math.abs(sorted[q] - cand.sorted[base + q]);
        }
        if (!(d < bound)) continue; // equal distance: the earlier candidate keeps its place
        let m = kk < kMax ? kk++ : kMax - 1;
        while (m > 0 && bestDist[m - 1] > d) {
          bestDist[m] = bestDist[m - 1];
          bestIdx[m] = bestIdx[m - 1];
          m--;
        }
        bestDist[m] = d;
        bestIdx[m] = n;
      }
      if (kk === 0) {
        throw new Error(
          `references.ts: feature map ${H}x${W} has no ${patch}x${patch} window that does not overlap (${i},${j}); use a larger image or a smaller --patch for --reference knn`,
        );
      }
      errors.fill(0);
      for (let m = 0; m < kk; m++) {
        const base = bestIdx[m] * size;
        for (let c = 0; c < C; c++) {
          const off = c * area;
          for (let q = 0; q < area; q++) {
            errors[q] += Math.abs(values[off + q] - cand.sorted[base + off + rankOf[off + q]]);
          }
        }
      }
      for (let q = 0; q < area; q++) errors[q] /= kk * C;
      visit(i, j, errors);
    }
  }
}

/** FCA (Eq. 6) with per-window k-NN references: σs blur, σp weights and fold as in FCA. */
export function knnFcaMap(
  features: FeatureMap,
  params: FcaParams,
  options: KnnOptions = {},
): ScalarMap {
  const { height: H, width: W } = features;
  const T = params.patch;
  const weights = patchWeights(T, params.sigmaP);
  const acc = new Float64Array(H * W);
  forEachKnnWindow(features, T, options, (i, j, errors) => {
    foldWindow(acc, H, W, errors, weights, params, i, j);
  });
  return { height: H, width: W, data: Float32Array.from(acc) };
}

/** SWW (Eq. 4) with per-window k-NN references: the σ-weighted sum of each window's error map. */
export function knnSwwMap(
  features: FeatureMap,
  patch: number,
  sigma: number,
  options: KnnOptions = {},
): ScalarMap {
  const { height: H, width: W } = features;
  const weights = patchWeights(patch, sigma);
  const out = new Float32Array(H * W);
  forEachKnnWindow(features, patch, options, (i, j, errors) => {
    let s = 0;
    for (let q = 0; q < errors.length; q++) s += weights[q] * errors[q];
    out[i * W + j] = s;
  });
  return { height: H, width: W, data: out };
}
