/**
 * Hand-crafted feature extractors of the paper's Table 1, as the reference code builds them
 * (`feature_extractors.py`). All run at full image resolution (stride 1) and return raw
 * (unscaled) responses, as the reference code does (its Colors uses post_scale=False; RandomKernels
 * and LawTextureEnergyMeasure have no scaling).
 *
 * - `colors`: the RGB image itself (3 channels).
 * - `random`: 128 random 5×5×3 kernels, each drawn from N(0, 1) and normalised to unit L2 norm over
 *   its 75 weights (`RandomKernels(projections=[[128, 1]], patch_size=5)`), correlated with the
 *   reflect-padded image. Seeded; torch's RNG stream cannot be reproduced, so the kernels differ
 *   from any particular run of the reference code.
 * - `laws`: Laws' texture energy measures (`LawTextureEnergyMeasure(mean_patch_size=15)`): the
 *   grey image (mean of R, G, B) minus its local mean (15-tap Gaussian, σ = 20, reflect), correlated
 *   with the 16 outer products of L5, E5, S5, R5 (reflect padding, /10), and combined into 9 maps:
 *   E5E5, S5S5, R5R5 and the symmetric pairs (L5E5+E5L5)/2, (L5S5+S5L5)/2, (L5R5+R5L5)/2,
 *   (E5S5+S5E5)/2, (E5R5+R5E5)/2, (S5R5+R5S5)/2. L5L5 is not among them (it is the local mean the
 *   subtraction removes).
 * @module
 */
import { reflectIndex } from "../fca/params.ts";
import { gaussianBlurPlanes } from "../fca/stats/blur.ts";
import { seededNormal } from "../base/rng.ts";
import type { FeatureMap } from "../fca/types.ts";
import type { RgbImage } from "../io/types.ts";
import { FEATURE_KINDS, type HandcraftedKind } from "../design.ts";

export type { HandcraftedKind };

/** Number of random kernels (the reference configuration `conf/fe/random.yaml`). */
export const RANDOM_KERNEL_COUNT = 128;
/** Side of the random kernels. */
export const RANDOM_KERNEL_SIZE = 5;

/** Laws' 1-D masks L5, E5, S5, R5. */
export const LAWS_VECTORS: readonly (readonly number[])[] = [
  [1, 4, 6, 4, 1],
  [-1, -2, 0, 2, 1],
  [-1, 0, 2, 0, -1],
  [1, -4, 6, -4, 1],
];

/** Feature map of `kind` for `image` (full resolution; `seed` only matters for `random`). */
export function handcraftedFeatures(
  kind: HandcraftedKind,
  image: RgbImage,
  seed: number,
): FeatureMap {
  switch (kind) {
    case "colors":
      return { channels: 3, height: image.height, width: image.width, data: image.data.slice() };
    case "random":
      return randomFeatures(image, randomKernels(seed));
    case "laws":
      return lawsFeatures(image);
    default:
      throw new Error(`--features must be one of ${FEATURE_KINDS.join(", ")}, got '${kind}'`);
  }
}

/**
 * `count` kernels [count, 3, size, size], each N(0, 1) and scaled to unit L2 norm (over all its
 * 3·size² weights), from `seed`.
 */
export function randomKernels(
  seed: number,
  count = RANDOM_KERNEL_COUNT,
  size = RANDOM_KERNEL_SIZE,
): Float32Array {
  const normal = seededNormal(seed);
  const len = 3 * size * size;
  const k = new Float32Array(count * len);
  for (let n = 0; n < count; n++) {
    const row = k.subarray(n * len, (n + 1) * len);
    let ss = 0;
    for (let q = 0; q < len; q++) {
      row[q] = normal();
      ss += row[q] * row[q];
    }
    const norm = Math.sqrt(ss);
    for (let q = 0; q < len; q++) row[q] /= norm;
  }
  return k;
}

/**
 * Correlate `planes` input planes (H×W each) with `kernels` [out, planes, size, size] after
 * reflect padding by size//2 (torch `F.conv2d` on `reflect_pad`), float64 accumulation.
 */
export function correlateReflect(
  input: ArrayLike<number>,
  planes: number,
  height: number,
  width: number,
  kernels: ArrayLike<number>,
  size: number,
): Float32Array {
  const n = height * width, area = size * size, r = size >> 1;
  const outCount = kernels.length / (planes * area);
  if (!Number.isInteger(outCount)) {
    throw new Error(
      `handcrafted.ts: kernel array of ${kernels.length} values is not [out,${planes},${size},${size}]`,
    );
  }
  const out = new Float32Array(outCount * n);
  const rows = new Int32Array(height * size), cols = new Int32Array(width * size);
  for (let y = 0; y < height; y++) {
    for (let a = 0; a < size; a++) rows[y * size + a] = reflectIndex(y + a - r, height) * width;
  }
  for (let x = 0; x < width; x++) {
    for (let b = 0; b < size; b++) cols[x * size + b] = reflectIndex(x + b - r, width);
  }
  const acc = new Float64Array(n);
  for (let o = 0; o < outCount; o++) {
    acc.fill(0);
    for (let p = 0; p < planes; p++) {
      const kb = (o * planes + p) * area, ib = p * n;
      for (let a = 0; a < size; a++) {
        for (let b = 0; b < size; b++) {
          const w = kernels[kb + a * size + b];
          if (w === 0) continue;
          for (let y = 0; y < height; y++) {
            const row = ib + rows[y * size + a], ob = y * width;
            for (let x = 0; x < width; x++) acc[ob + x] += w * input[row + cols[x * size + b]];
          }
        }
      }
    }
    out.set(acc, o * n);
  }
  return out;
}

/** Random-projection features [kernels, H, W] of `image` with `kernels` [K, 3, 5, 5]. */
export function randomFeatures(image: RgbImage, kernels: Float32Array): FeatureMap {
  const { height: H, width: W } = image;
  const size = RANDOM_KERNEL_SIZE;
  const data = correlateReflect(image.data, 3, H, W, kernels, size);
  return { channels: data.length / (H * W), height: H, width: W, data };
}

/** The 16 Laws kernels [16, 1, 5, 5]: index 4n+m is outer(v_n vertical, v_m horizontal). */
export function lawsKernels(): Float32Array {
  const k = new Float32Array(16 * 25);
  for (let n = 0; n < 4; n++) {
    for (let m = 0; m < 4; m++) {
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 5; j++) {
          k[(n * 4 + m) * 25 + i * 5 + j] = LAWS_VECTORS[n][i] * LAWS_VECTORS[m][j];
        }
      }
    }
  }
  return k;
}

/** Laws' texture energy features [9, H, W] of `image` (see the module notes for the order). */
export function lawsFeatures(image: RgbImage, meanPatch = 15, meanSigma = 20): FeatureMap {
  const { height: H, width: W, data } = image;
  const n = H * W;
  const grey = new Float32Array(n);
  for (let p = 0; p < n; p++) grey[p] = Math.fround((data[p] + data[n + p] + data[2 * n + p]) / 3);
  if (meanPatch > 0) {
    const local = gaussianBlurPlanes(grey, 1, H, W, meanPatch, meanSigma);
    for (let p = 0; p < n; p++) grey[p] = Math.fround(grey[p] - local[p]);
  }
  const energy = correlateReflect(grey, 1, H, W, lawsKernels(), 5);
  const map = (i: number) => energy.subarray(i * n, (i + 1) * n);
  const out = new Float32Array(9 * n);
  const singles = [5, 10, 15];
  const pairs = [[1, 4], [2, 8], [3, 12], [6, 9], [7, 13], [11, 14]];
  singles.forEach((s, f) => {
    const e = map(s);
    for (let p = 0; p < n; p++) out[f * n + p] = e[p] / 10;
  });
  pairs.forEach(([a, b], q) => {
    const ea = map(a), eb = map(b), f = 3 + q;
    for (let p = 0; p < n; p++) out[f * n + p] = (ea[p] / 10 + eb[p] / 10) / 2;
  });
  return { channels: 9, height: H, width: W, data: out };
}
