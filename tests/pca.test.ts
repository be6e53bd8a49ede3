import assert from "node:assert/strict";
import { jacobiEigen, pcaProject } from "../src/fca/pca.ts";
import type { FeatureMap } from "../src/fca/types.ts";
import { rng } from "./_shared.ts";

Deno.test("pca: Jacobi eigen-decomposition reconstructs a symmetric matrix", () => {
  const n = 6, r = rng(4), S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) S[i * n + j] = S[j * n + i] = r() - 0.5;
  }
  const { values, vectors: V } = jacobiEigen(S, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += V[i * n + k] * values[k] * V[j * n + k];
      assert.ok(Math.abs(s - S[i * n + j]) < 1e-9);
    }
  }
});

Deno.test("pca: recovers planted components in order of variance", () => {
  // 12 channels = 3·u + 1·v + small noise: the first component is ±u, the second ±v.
  const C = 12, H = 20, W = 30, N = H * W, r = rng(8);
  const u = Array.from({ length: C }, (_, c) => (c < 6 ? 1 : 0) / Math.sqrt(6));
  const v = Array.from({ length: C }, (_, c) => (c >= 6 ? 1 : 0) / Math.sqrt(6));
  const a = Array.from({ length: N }, () => 3 * (r() - 0.5));
  const b = Array.from({ length: N }, () => r() - 0.5);
  const data = new Float32Array(C * N);
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < N; n++) data[c * N + n] = a[n] * u[c] + b[n] * v[c] + 1e-3 * r() + 5;
  }
  const f: FeatureMap = { channels: C, height: H, width: W, data };
  const p = pcaProject(f, 2);
  assert.equal(p.channels, 2);
  const corr = (x: ArrayLike<number>, y: number[]) => {
    let sxy = 0, sxx = 0, syy = 0, mx = 0, my = 0;
    for (let i = 0; i < N; i++) (mx += x[i] / N), (my += y[i] / N);
    for (let i = 0; i < N; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) ** 2;
      syy += (y[i] - my) ** 2;
    }
    return Math.abs(sxy / Math.sqrt(sxx * syy));
  };
  assert.ok(corr(p.data.subarray(0, N), a) > 0.999);
  assert.ok(corr(p.data.subarray(N), b) > 0.999);
  assert.throws(() => pcaProject(f, 13), /--pca must be an integer in \[1, 12\]/);
});
