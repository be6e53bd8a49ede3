/**
 * Validation of FCA parameters and the Gaussian kernels they define, exactly as torchvision
 * builds them (the reference implementation's conventions 5 and 6).
 * @module
 */
import type { FcaParams } from "./types.ts";

/** Side of the σs blur kernel (torchvision `GaussianBlur(5, σs)` in the reference code). */
export const BLUR_SIZE = 5;

/** Throw a one-line error unless `p` is usable. */
export function validateParams(p: FcaParams): void {
  if (!Number.isInteger(p.patch) || p.patch < 1 || p.patch % 2 === 0) {
    throw new Error(`--patch must be an odd integer >= 1, got ${p.patch}`);
  }
  if (!Number.isFinite(p.sigmaP) || p.sigmaP <= 0) {
    throw new Error(`--sigma-p must be a positive number, got ${p.sigmaP}`);
  }
  if (!Number.isFinite(p.sigmaS) || p.sigmaS < 0) {
    throw new Error(`--sigma-s must be a number >= 0 (0 turns the blur off), got ${p.sigmaS}`);
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
