/**
 * Quantized FCA (QFCA; Ardelean, Rückbeil & Weyrich 2025), derived in docs/qfca.md and written
 * here for clarity: it is the specification that the fast CPU path (`fast/qfca.ts`) and the WGSL
 * kernels (`kernels/qfca_*.wgsl`) are tested against.
 *
 * 1. Each scaled channel (values in [0, 1]; clamped) is quantized to B bins:
 *    `q(v) = clamp(floor(f32(v·B)), 0, B−1)`, bin b standing for the value `v_b = (b + ½)/B`.
 * 2. The reference is the median reference of convention 2 on the quantized map (quantization is
 *    monotonic, so it is the quantized median reference): `r[c][k]`, a bin per rank k < T².
 * 3. In every reflect-padded T×T window p, rank matching sends the `h_p[b]` pixels of bin b (ranks
 *    `H_p[b−1] … H_p[b]−1`, H the cumulative histogram) to the same reference ranks, and all of
 *    them get the averaged error `e_p[b] = mean_k |v_b − v_{r[k]}|` over those ranks (the
 *    tie-symmetric version of sort-based FCA). `Σ_b h_p[b]·e_p[b]` is the window's 1-D Wasserstein
 *    distance to the reference.
 * 4. A pixel's score is `(1/C) Σ_c Σ_{windows p ∋ x, p in the image} w(x−p) · e^c_p[q_c(x)]`, with w
 *    the σp weights of FCA; nothing is normalised (borders attenuated, as FCA).
 * 5. σs: the 5×5 σs blur inside each window becomes one 5×5 σs blur of the map (reflect padding),
 *    which is what the per-window blur amounts to when w is flat over 5×5 (docs/qfca.md).
 * @module
 */
import { medianReference } from "./median_reference.ts";
import { BLUR_SIZE, gaussian1d, patchWeights, reflectIndex, validateParams } from "./params.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "./types.ts";

/** Bin of a scaled value: `clamp(floor(f32(v·B)), 0, B−1)` (NaN goes to bin 0). */
export function quantizeValue(v: number, bins: number): number {
  const b = Math.floor(Math.fround(v * bins));
  return b >= bins ? bins - 1 : b >= 0 ? b : 0;
}

/** Throw a one-line error unless `bins` is a usable bin count. */
export function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 2 || bins > 256) {
    throw new Error(`--bins must be an integer in [2, 256], got '${bins}'`);
  }
}

/** The bins of every value, `[C, H, W]`. */
export function quantize(features: FeatureMap, bins: number): Uint8Array {
  checkBins(bins);
  const out = new Uint8Array(features.data.length);
  for (let k = 0; k < out.length; k++) out[k] = quantizeValue(features.data[k], bins);
  return out;
}

/**
 * The quantized median reference `[C, T·T]` (a bin per channel and rank): convention 2's median
 * reference of the map whose values are replaced by their bins.
 */
export function quantizedMedianReference(
  features: FeatureMap,
  patch: number,
  bins: number,
): Uint8Array {
  const q = quantize(features, bins);
  const asValues = { ...features, data: Float32Array.from(q) };
  return Uint8Array.from(medianReference(asValues, patch));
}

/**
 * Averaged errors `e[b]` of one window from its histogram `hist` (B counts summing to T²) and the
 * reference bins `ref` (non-decreasing, T² of them): a two-pointer merge of the window's rank
 * intervals with the reference's runs of equal bins, O(B) per window. Bins absent from the window
 * get 0.
 */
export function windowBinErrors(
  hist: ArrayLike<number>,
  ref: ArrayLike<number>,
  bins: number,
  out: Float64Array = new Float64Array(bins),
): Float64Array {
  let k = 0; // next reference rank
  for (let b = 0; b < bins; b++) {
    const n = hist[b];
    if (n === 0) {
      out[b] = 0;
      continue;
    }
    // Ranks [k, k + n): walk the reference's runs of equal bins that overlap them.
    let sum = 0, left = n;
    while (left > 0) {
      const r = ref[k];
      let run = 1;
      while (run < left && ref[k + run] === r) run++;
      sum += run * Math.abs(b - r);
      k += run;
      left -= run;
    }
    out[b] = sum / (n * bins); // |v_b − v_r| = |b − r| / B
  }
  return out;
}

/**
 * The QFCA map (H×W) of min-max scaled `features` against the quantized reference `ref`
 * (`[C, T·T]` bins; the quantized median reference when absent).
 */
export function qfcaMap(
  features: FeatureMap,
  params: FcaParams,
  bins: number,
  ref?: Uint8Array,
): ScalarMap {
  validateParams(params);
  checkBins(bins);
  const { channels: C, height: H, width: W } = features;
  const T = params.patch, half = T >> 1, area = T * T;
  const reference = ref ?? quantizedMedianReference(features, T, bins);
  if (reference.length !== C * area) {
    throw new Error(`qfca: reference has ${reference.length} bins, expected ${C}x${area}`);
  }
  const q = quantize(features, bins);
  const w = patchWeights(T, params.sigmaP);
  const acc = new Float64Array(H * W);
  const hist = new Int32Array(bins);
  const e = new Float64Array(bins);
  for (let c = 0; c < C; c++) {
    const plane = q.subarray(c * H * W, (c + 1) * H * W);
    const r = reference.subarray(c * area, (c + 1) * area);
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        hist.fill(0);
        for (let dy = -half; dy <= half; dy++) {
          const y = reflectIndex(i + dy, H);
          for (let dx = -half; dx <= half; dx++) hist[plane[y * W + reflectIndex(j + dx, W)]]++;
        }
        windowBinErrors(hist, r, bins, e);
        for (let dy = -half; dy <= half; dy++) {
          const y = i + dy;
          if (y < 0 || y >= H) continue;
          for (let dx = -half; dx <= half; dx++) {
            const x = j + dx;
            if (x < 0 || x >= W) continue;
            acc[y * W + x] += w[(dy + half) * T + dx + half] * e[plane[y * W + x]];
          }
        }
      }
    }
  }
  for (let k = 0; k < acc.length; k++) acc[k] /= C;
  const map = { height: H, width: W, data: Float32Array.from(acc) };
  return params.sigmaS > 0 ? blurMap(map, params.sigmaS) : map;
}

/** 5×5 Gaussian blur (σs) of an H×W map with reflect padding at the image border. */
export function blurMap(map: ScalarMap, sigmaS: number): ScalarMap {
  const { height: H, width: W, data } = map;
  const g = gaussian1d(BLUR_SIZE, sigmaS), r = BLUR_SIZE >> 1;
  const rows = new Float64Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let a = 0; a < BLUR_SIZE; a++) s += g[a] * data[y * W + reflectIndex(x + a - r, W)];
      rows[y * W + x] = s;
    }
  }
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let a = 0; a < BLUR_SIZE; a++) s += g[a] * rows[reflectIndex(y + a - r, H) * W + x];
      out[y * W + x] = s;
    }
  }
  return { height: H, width: W, data: out };
}

/**
 * Sort-based FCA with tie-averaged errors and no σs (the oracle of the equality QFCA = FCA on
 * maps already quantized): as `fcaMapReference` with σs = 0, except that values tied within a
 * window share the mean of their ranks' errors instead of taking them in raster order.
 */
export function fcaMapTieAveraged(
  features: FeatureMap,
  reference: Float32Array,
  params: FcaParams,
): ScalarMap {
  const { channels: C, height: H, width: W, data } = features;
  const T = params.patch, half = T >> 1, area = T * T;
  const w = patchWeights(T, params.sigmaP);
  const acc = new Float64Array(H * W);
  const values = new Float32Array(area), err = new Float64Array(area);
  const order = Array.from({ length: area }, (_, k) => k);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      err.fill(0);
      for (let c = 0; c < C; c++) {
        const plane = c * H * W;
        for (let dy = 0; dy < T; dy++) {
          const y = reflectIndex(i + dy - half, H);
          for (let dx = 0; dx < T; dx++) {
            values[dy * T + dx] = data[plane + y * W + reflectIndex(j + dx - half, W)];
          }
        }
        for (let k = 0; k < area; k++) order[k] = k;
        order.sort((a, b) => values[a] - values[b] || a - b);
        for (let s = 0; s < area;) {
          let t = s + 1;
          while (t < area && values[order[t]] === values[order[s]]) t++;
          let sum = 0;
          for (let u = s; u < t; u++) sum += Math.abs(values[order[u]] - reference[c * area + u]);
          for (let u = s; u < t; u++) err[order[u]] += sum / (t - s);
          s = t;
        }
      }
      for (let dy = 0; dy < T; dy++) {
        const y = i + dy - half;
        if (y < 0 || y >= H) continue;
        for (let dx = 0; dx < T; dx++) {
          const x = j + dx - half;
          if (x < 0 || x >= W) continue;
          acc[y * W + x] += w[dy * T + dx] * err[dy * T + dx] / C;
        }
      }
    }
  }
  return { height: H, width: W, data: Float32Array.from(acc) };
}
