/**
 * Validation of FCA parameters and the Gaussian kernels they define, exactly as torchvision
 * builds them (conventions 5 and 6 in docs/conventions.md).
 * @module
 */
import { checkOption, optionSpec } from "../design.ts";
import type { FcaParams } from "./types.ts";

/** Side of the σs blur kernel (torchvision `GaussianBlur(5, σs)` in the reference code). */
export const BLUR_SIZE = 5;

/** Throw a one-line error unless `p` is usable (the design table's checks of T, σp and σs). */
export function validateParams(p: FcaParams): void {
  checkOption(optionSpec("patch"), p.patch);
  checkOption(optionSpec("sigmaP"), p.sigmaP);
  checkOption(optionSpec("sigmaS"), p.sigmaS);
}

/**
 * Throw one line when an image's feature map cannot hold a single T×T patch. `image` is the input
 * the features came from (named in the message).
 */
export function checkFeatureSize(
  height: number,
  width: number,
  patch: number,
  image: { width: number; height: number },
): void {
  if (height < patch || width < patch) {
    throw new Error(
      `image ${image.width}x${image.height} gives a ${width}x${height} feature map, smaller than one ${patch}x${patch} patch: use a larger image, --size, or a smaller --patch`,
    );
  }
}

/**
 * Normalised 1-D Gaussian of `size` taps centred on the middle tap:
 * g[i] = exp(-x²/(2σ²)), x = i - (size-1)/2, divided by its sum (torchvision `_get_gaussian_kernel1d`).
 * Computed in float32 as torch does.
 */
export function gaussian1d(size: number, sigma: number): Float32Array {
  const g = new Float32Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = i - (size - 1) / 2;
    g[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
    sum += g[i];
  }
  for (let i = 0; i < size; i++) g[i] = Math.fround(g[i] / Math.fround(sum));
  return g;
}

/** T×T spatial weights: outer product of the σp Gaussian with itself (sums to 1). */
export function patchWeights(patch: number, sigmaP: number): Float32Array {
  const g = gaussian1d(patch, sigmaP);
  const w = new Float32Array(patch * patch);
  for (let y = 0; y < patch; y++) {
    for (let x = 0; x < patch; x++) w[y * patch + x] = Math.fround(g[y] * g[x]);
  }
  return w;
}

/** Reflect an index into [0, n) without repeating the edge (numpy/torch `reflect`). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}
