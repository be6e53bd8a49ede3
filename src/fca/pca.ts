/**
 * QFCA+ feature preprocessing (`--pca K`): per image, the channels are projected on their first K
 * principal components before min-max scaling, so that every later stage (any `--stats`) sees K
 * decorrelated channels ordered by variance instead of C correlated ones.
 *
 * The components come from randomized subspace iteration (Halko, Martinsson & Tropp 2011) on at
 * most {@link PCA_SAMPLES} pixels of a regular grid: K + 8 seeded Gaussian directions, two
 * power iterations, then Rayleigh–Ritz (Jacobi on the small projected covariance). Deterministic;
 * a component's sign is arbitrary, which no statistic here depends on (min-max scaling of −x is
 * 1 − scaled x and every comparison is symmetric in it).
 * @module
 */
import { mulberry32 } from "../base/rng.ts";
import type { FeatureMap } from "./types.ts";

/** Most pixels the covariance is estimated from. */
export const PCA_SAMPLES = 1024;

/** The first `k` principal components of `features`' channels, as a new `[k, H, W]` map. */
export function pcaProject(features: FeatureMap, k: number): FeatureMap {
  const { channels: C, height: H, width: W, data } = features;
  const N = H * W;
  if (!Number.isInteger(k) || k < 1 || k > C) {
    throw new Error(`--pca must be an integer in [1, ${C}] (the feature channels), got '${k}'`);
  }
  // Channel means over every pixel.
  const mean = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += data[c * N + n];
    mean[c] = s / N;
  }
  // Centred samples X [M, C] on a regular grid.
  const step = Math.max(1, Math.ceil(Math.sqrt(N / PCA_SAMPLES)));
  const pix: number[] = [];
  for (let y = 0; y < H; y += step) for (let x = 0; x < W; x += step) pix.push(y * W + x);
  const M = pix.length;
  const X = new Float64Array(M * C);
  for (let m = 0; m < M; m++) {
    for (let c = 0; c < C; c++) X[m * C + c] = data[c * N + pix[m]] - mean[c];
  }
  const L = Math.min(C, k + 8);
  // Q [C, L]: seeded Gaussian start, then Q ← orth(Xᵀ X Q) three times.
  const rnd = mulberry32(0x5eed);
  let Q: Float64Array = new Float64Array(C * L);
  for (let i = 0; i < Q.length; i++) {
    Q[i] = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  }
  orthonormalize(Q, C, L);
  const Y = new Float64Array(M * L);
  const covTimes = (V: Float64Array): Float64Array => {
    // Y = X V [M, L]; Z = Xᵀ Y [C, L].
    Y.fill(0);
    for (let m = 0; m < M; m++) {
      const xr = m * C, yr = m * L;
      for (let c = 0; c < C; c++) {
        const xv = X[xr + c];
        if (xv === 0) continue;
        const vr = c * L;
        for (let l = 0; l < L; l++) Y[yr + l] += xv * V[vr + l];
      }
    }
    const Z = new Float64Array(C * L);
    for (let m = 0; m < M; m++) {
      const xr = m * C, yr = m * L;
      for (let c = 0; c < C; c++) {
        const xv = X[xr + c];
        if (xv === 0) continue;
        const zr = c * L;
        for (let l = 0; l < L; l++) Z[zr + l] += xv * Y[yr + l];
      }
    }
    return Z;
  };
  for (let it = 0; it < 2; it++) {
    Q = covTimes(Q);
    orthonormalize(Q, C, L);
  }
  // Rayleigh–Ritz: S = Qᵀ (XᵀX) Q [L, L], eigenvectors by Jacobi, components = Q · U.
  const Z = covTimes(Q);
  const S = new Float64Array(L * L);
  for (let a = 0; a < L; a++) {
    for (let b = 0; b < L; b++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += Q[c * L + a] * Z[c * L + b];
      S[a * L + b] = s;
    }
  }
  const { values, vectors } = jacobiEigen(S, L);
  const order = Array.from({ length: L }, (_, i) => i).sort((a, b) => values[b] - values[a]);
  const comp = new Float64Array(k * C); // [k, C]
  for (let j = 0; j < k; j++) {
    const u = order[j];
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let l = 0; l < L; l++) s += Q[c * L + l] * vectors[l * L + u];
      comp[j * C + c] = s;
    }
  }
  // Project every pixel.
  const out = new Float32Array(k * N);
  const acc = new Float64Array(N);
  for (let j = 0; j < k; j++) {
    acc.fill(0);
    for (let c = 0; c < C; c++) {
      const w = comp[j * C + c], mu = mean[c], plane = c * N;
      if (w === 0) continue;
      for (let n = 0; n < N; n++) acc[n] += w * (data[plane + n] - mu);
    }
    out.set(acc, j * N);
  }
  return { channels: k, height: H, width: W, data: out };
}

/** Modified Gram–Schmidt on the columns of `A` [rows, cols] (in place). */
function orthonormalize(A: Float64Array, rows: number, cols: number): void {
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < j; i++) {
      let d = 0;
      for (let r = 0; r < rows; r++) d += A[r * cols + i] * A[r * cols + j];
      for (let r = 0; r < rows; r++) A[r * cols + j] -= d * A[r * cols + i];
    }
    let n = 0;
    for (let r = 0; r < rows; r++) n += A[r * cols + j] ** 2;
    n = Math.sqrt(n) || 1;
    for (let r = 0; r < rows; r++) A[r * cols + j] /= n;
  }
}

/** Eigen-decomposition of a symmetric n×n matrix by cyclic Jacobi rotations. */
export function jacobiEigen(
  S: Float64Array,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(S);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cs = 1 / Math.sqrt(t * t + 1), sn = t * cs;
        for (let r = 0; r < n; r++) {
          const arp = A[r * n + p], arq = A[r * n + q];
          A[r * n + p] = cs * arp - sn * arq;
          A[r * n + q] = sn * arp + cs * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = A[p * n + r], aqr = A[q * n + r];
          A[p * n + r] = cs * apr - sn * aqr;
          A[q * n + r] = sn * apr + cs * aqr;
        }
        for (let r = 0; r < n; r++) {
          const vrp = V[r * n + p], vrq = V[r * n + q];
          V[r * n + p] = cs * vrp - sn * vrq;
          V[r * n + q] = sn * vrp + cs * vrq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = A[i * n + i];
  return { values, vectors: V };
}
