import assert from "node:assert/strict";
import { medianReference } from "../src/fca/median_reference.ts";
import { gaussian1d, reflectIndex } from "../src/fca/params.ts";
import { fcaMapReference } from "../src/fca/rank_matching.ts";
import { forEachKnnWindow, knnFcaMap, knnSwwMap, randomReference } from "../src/fca/references.ts";
import { gaussianBlurPlanes } from "../src/fca/stats/blur.ts";
import { stableArgsort } from "../src/fca/stats/stable_sort.ts";
import {
  anomalyMapCpu,
  aotaMap,
  type DesignOptions,
  meanOfSmallest,
  swwMap,
  torchSortOrder,
} from "../src/fca/stats/mod.ts";
import {
  checkDesign as validateDesign,
  type ReferenceKind,
  type StatsKind,
} from "../src/design.ts";
import type { FcaParams, FeatureMap } from "../src/fca/types.ts";
import { rng } from "./_shared.ts";

const PARAMS: FcaParams = { patch: 5, sigmaP: 3, sigmaS: 1 };

function randomMap(C: number, H: number, W: number, seed: number): FeatureMap {
  const r = rng(seed);
  return { channels: C, height: H, width: W, data: Float32Array.from({ length: C * H * W }, r) };
}

/** Stationary noise with a block of shifted values at rows/cols [y0, y0+s) × [x0, x0+s). */
function textureWithBlock(y0: number, x0: number, s: number): FeatureMap {
  const f = randomMap(4, 32, 32, 11);
  const r = rng(99);
  for (let c = 0; c < 4; c++) {
    for (let y = y0; y < y0 + s; y++) {
      for (let x = x0; x < x0 + s; x++) f.data[c * 1024 + y * 32 + x] = 0.85 + 0.15 * r();
    }
  }
  return f;
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let k = 1; k < a.length; k++) if (a[k] > a[best]) best = k;
  return best;
}

/** Every complete window of a T-periodic map holds the same values, so all references agree. */
function periodicMap(C: number, H: number, W: number, T: number): FeatureMap {
  const tile = randomMap(C, T, T, 5);
  const data = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        data[c * H * W + y * W + x] = tile.data[c * T * T + (y % T) * T + (x % T)];
      }
    }
  }
  return { channels: C, height: H, width: W, data };
}

const design = (
  stats: StatsKind,
  reference: ReferenceKind,
  extra: Partial<DesignOptions> = {},
) => ({
  stats,
  reference,
  params: PARAMS,
  seed: 3,
  ...extra,
});

Deno.test("fca + median equals fcaMapReference with the median reference", () => {
  const f = randomMap(3, 13, 11, 1);
  const got = anomalyMapCpu(f, design("fca", "median"));
  assert.deepEqual(got, fcaMapReference(f, medianReference(f, 5), PARAMS));
});

Deno.test("fca/sww + random use one sorted complete tile chosen by the seed", () => {
  const f = randomMap(2, 14, 12, 2);
  const T = 5, area = T * T;
  const ref = randomReference(f, T, 7);
  assert.deepEqual(ref, randomReference(f, T, 7));
  let matches = 0;
  for (let y0 = 0; y0 + T <= 14; y0++) {
    for (let x0 = 0; x0 + T <= 12; x0++) {
      let same = true;
      for (let c = 0; c < 2 && same; c++) {
        const tile: number[] = [];
        for (let dy = 0; dy < T; dy++) {
          for (let dx = 0; dx < T; dx++) tile.push(f.data[c * 168 + (y0 + dy) * 12 + x0 + dx]);
        }
        tile.sort((a, b) => a - b);
        same = tile.every((v, r) => v === ref[c * area + r]);
      }
      if (same) matches++;
    }
  }
  assert.equal(matches, 1);
  const seeds = new Set([1, 2, 3, 4, 5, 6].map((s) => randomReference(f, T, s).join()));
  assert.ok(seeds.size > 1, "different seeds should pick different tiles");
  assert.deepEqual(
    anomalyMapCpu(f, design("fca", "random", { seed: 7 })),
    fcaMapReference(f, ref, PARAMS),
  );
  assert.deepEqual(anomalyMapCpu(f, design("sww", "random", { seed: 7 })), swwMap(f, ref, T, 3));
});

Deno.test("k-NN references on a T-periodic map reduce to the median reference", () => {
  const T = 3, f = periodicMap(2, 12, 10, T);
  const params = { patch: T, sigmaP: 3, sigmaS: 1 };
  const median = medianReference(f, T);
  const expected = fcaMapReference(f, median, params);
  for (const k of [1, 4]) {
    const got = knnFcaMap(f, params, { k });
    for (let q = 0; q < got.data.length; q++) {
      assert.ok(Math.abs(got.data[q] - expected.data[q]) <= 1e-6, `k=${k} at ${q}`);
    }
  }
  const sww = knnSwwMap(f, T, 3, { k: 2, stride: 2 });
  const swwExpected = swwMap(f, median, T, 3);
  for (let q = 0; q < sww.data.length; q++) {
    assert.ok(Math.abs(sww.data[q] - swwExpected.data[q]) <= 1e-6);
  }
});

Deno.test("an inserted anomalous block scores highest under every statistics/reference pair", () => {
  const y0 = 18, x0 = 8, s = 6;
  const f = textureWithBlock(y0, x0, s);
  const pairs: [StatsKind, ReferenceKind][] = [
    ["fca", "median"],
    ["fca", "random"],
    ["fca", "knn"],
    ["sww", "median"],
    ["sww", "random"],
    ["sww", "knn"],
    ["hist", "median"],
    ["moments", "median"],
    ["aota", "knn"],
  ];
  for (const [stats, reference] of pairs) {
    const map = anomalyMapCpu(f, design(stats, reference, { knnK: 5, knnStride: 2 }));
    const at = argmax(map.data), y = Math.floor(at / 32), x = at % 32;
    const inside = y >= y0 - 1 && y < y0 + s + 1 && x >= x0 - 1 && x < x0 + s + 1;
    assert.ok(inside, `${stats}+${reference}: maximum at (${y},${x}), block at (${y0},${x0})`);
  }
});

/** Mirror an index into [0, n) without repeating the edge, written out for the oracles below. */
function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/** Normalised Gaussian taps in float64 (the oracles' own). */
function taps(size: number, sigma: number): number[] {
  const g = Array.from(
    { length: size },
    (_, i) => Math.exp(-((i - (size - 1) / 2) ** 2) / (2 * sigma ** 2)),
  );
  const sum = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / sum);
}

/**
 * Brute-force k-NN FCA and SWW maps (the module comment of src/fca/references.ts made literal):
 * every reflect-padded T×T window is compared with every complete window on the stride grid
 * that does not overlap it, by Σ_c Σ_rank |sorted − sorted|; the k nearest (earlier first on
 * equal distance) give the error map mean_{ref,c} |x − ref_c[rank(x)]|; FCA blurs it (5 taps,
 * σs, reflect inside the window), weights it by the σp Gaussian and adds it at the values'
 * positions; SWW takes the weighted sum.
 */
function bruteKnn(
  f: FeatureMap,
  T: number,
  sigmaP: number,
  sigmaS: number,
  k: number,
  stride: number,
): { fca: Float64Array; sww: Float64Array } {
  const { channels: C, height: H, width: W, data } = f;
  const half = (T - 1) / 2, area = T * T;
  const at = (c: number, y: number, x: number) => data[c * H * W + y * W + x];
  const cands: { cy: number; cx: number; sorted: number[][] }[] = [];
  for (let cy = half; cy + half < H; cy += stride) {
    for (let cx = half; cx + half < W; cx += stride) {
      const sorted: number[][] = [];
      for (let c = 0; c < C; c++) {
        const v: number[] = [];
        for (let dy = -half; dy <= half; dy++) {
          for (let dx = -half; dx <= half; dx++) v.push(at(c, cy + dy, cx + dx));
        }
        sorted.push(v.sort((a, b) => a - b));
      }
      cands.push({ cy, cx, sorted });
    }
  }
  const gp = taps(T, sigmaP), gs = taps(5, sigmaS);
  const fca = new Float64Array(H * W), sww = new Float64Array(H * W);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      const values: number[][] = [], ranks: number[][] = [], sorted: number[][] = [];
      for (let c = 0; c < C; c++) {
        const v: number[] = [];
        for (let dy = -half; dy <= half; dy++) {
          for (let dx = -half; dx <= half; dx++) {
            v.push(at(c, mirror(i + dy, H), mirror(j + dx, W)));
          }
        }
        const order = v.map((_, q) => q).sort((a, b) => v[a] - v[b] || a - b);
        const rank = new Array(area);
        order.forEach((q, r) => (rank[q] = r));
        values.push(v);
        ranks.push(rank);
        sorted.push(order.map((q) => v[q]));
      }
      const near = cands
        .map((cand, n) => ({ cand, n }))
        .filter(({ cand }) => !(Math.abs(cand.cy - i) < T && Math.abs(cand.cx - j) < T))
        .map(({ cand, n }) => {
          let d = 0;
          for (let c = 0; c < C; c++) {
            for (let r = 0; r < area; r++) d += Math.abs(sorted[c][r] - cand.sorted[c][r]);
          }
          return { cand, n, d };
        })
        .sort((a, b) => a.d - b.d || a.n - b.n)
        .slice(0, k);
      const err = Array.from({ length: area }, (_, q) => {
        let e = 0;
        for (const { cand } of near) {
          for (let c = 0; c < C; c++) e += Math.abs(values[c][q] - cand.sorted[c][ranks[c][q]]);
        }
        return e / (near.length * C);
      });
      let s = 0;
      for (let q = 0; q < area; q++) s += gp[Math.floor(q / T)] * gp[q % T] * err[q];
      sww[i * W + j] = s;
      for (let y = 0; y < T; y++) {
        for (let x = 0; x < T; x++) {
          let b = 0;
          for (let a = 0; a < 5; a++) {
            for (let e = 0; e < 5; e++) {
              b += gs[a] * gs[e] * err[mirror(y + a - 2, T) * T + mirror(x + e - 2, T)];
            }
          }
          const yy = i + y - half, xx = j + x - half;
          if (yy >= 0 && yy < H && xx >= 0 && xx < W) fca[yy * W + xx] += gp[y] * gp[x] * b;
        }
      }
    }
  }
  return { fca, sww };
}

/** Largest |a − b| over the range of b. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    lo = Math.min(lo, b[i]);
    hi = Math.max(hi, b[i]);
  }
  return d / (hi - lo);
}

Deno.test("fca/sww + knn maps equal a brute-force k-NN computation (values, not just the argmax)", () => {
  const f = randomMap(2, 11, 10, 21);
  const params = { patch: 3, sigmaP: 2, sigmaS: 0.8 };
  for (const [k, stride] of [[3, 1], [2, 2], [1, 1]]) {
    const want = bruteKnn(f, 3, params.sigmaP, params.sigmaS, k, stride);
    const extra = { knnK: k, knnStride: stride };
    const fca = anomalyMapCpu(f, { ...design("fca", "knn", extra), params });
    const sww = anomalyMapCpu(f, { ...design("sww", "knn", extra), params });
    assert.ok(
      relErr(fca.data, want.fca) <= 1e-5,
      `fca k=${k} stride=${stride}: ${relErr(fca.data, want.fca)}`,
    );
    assert.ok(
      relErr(sww.data, want.sww) <= 1e-5,
      `sww k=${k} stride=${stride}: ${relErr(sww.data, want.sww)}`,
    );
  }
});

Deno.test("aota map equals a brute-force computation (k = 400 of 504 positions, values)", () => {
  // More positions than aota's k so that the k smallest are a real choice; T = 5 local means.
  const C = 3, H = 24, W = 21, n = H * W, T = 5;
  const f = randomMap(C, H, W, 23);
  const g = taps(T, 100);
  const local = new Float64Array(C * n);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let s = 0;
        for (let a = 0; a < T; a++) {
          for (let b = 0; b < T; b++) {
            s += g[a] * g[b] * f.data[c * n + mirror(y + a - 2, H) * W + mirror(x + b - 2, W)];
          }
        }
        local[c * n + y * W + x] = s;
      }
    }
  }
  const want = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const d: number[] = [];
    for (let q = 0; q < n; q++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += (local[c * n + p] - local[c * n + q]) ** 2;
      d.push(s);
    }
    d.sort((a, b) => a - b);
    want[p] = d.slice(0, 400).reduce((a, b) => a + b, 0) / 400;
  }
  const got = anomalyMapCpu(f, design("aota", "knn"));
  assert.deepEqual([got.height, got.width], [H, W]);
  assert.ok(relErr(got.data, want) <= 1e-5, `relative error ${relErr(got.data, want)}`);
});

Deno.test("unsupported design pairs and bad names throw one-line errors", () => {
  assert.throws(() => validateDesign("hist", "random"), /does not take --reference random/);
  assert.throws(() => validateDesign("moments", "knn"), /does not take --reference knn/);
  assert.throws(() => validateDesign("aota", "random"), /does not take/);
  assert.throws(() => validateDesign("nope" as StatsKind, "median"), /--stats must be one of/);
  assert.throws(() => validateDesign("fca", "nope" as ReferenceKind), /--reference must be one of/);
  validateDesign("sww", "knn");
  validateDesign("aota", "median");
  assert.throws(() => randomReference(randomMap(1, 4, 4, 1), 5, 0), /smaller than one 5x5 patch/);
});

Deno.test("aota scores each position by the mean of its k smallest local-mean distances", () => {
  const f = randomMap(2, 6, 5, 4);
  const got = aotaMap(f, 3, { k: 4 });
  const local = gaussianBlurPlanes(f.data, 2, 6, 5, 3, 100);
  for (let p = 0; p < 30; p++) {
    const d: number[] = [];
    for (let q = 0; q < 30; q++) {
      d.push((local[p] - local[q]) ** 2 + (local[30 + p] - local[30 + q]) ** 2);
    }
    d.sort((a, b) => a - b);
    assert.ok(Math.abs(got.data[p] - (d[0] + d[1] + d[2] + d[3]) / 4) < 1e-7);
  }
});

Deno.test("meanOfSmallest agrees with sorting, ties included", () => {
  const r = rng(8);
  for (const n of [1, 2, 7, 50, 301]) {
    const v = Float64Array.from({ length: n }, () => Math.floor(r() * 10));
    const sorted = Array.from(v).sort((a, b) => a - b);
    for (const k of [1, Math.ceil(n / 2), n]) {
      const expected = sorted.slice(0, k).reduce((a, b) => a + b, 0) / k;
      assert.ok(Math.abs(meanOfSmallest(v.slice(), k) - expected) < 1e-12, `n=${n} k=${k}`);
    }
  }
});

Deno.test("whole-map blur equals a direct 2-D outer-product Gaussian with reflect padding", () => {
  const f = randomMap(2, 7, 9, 6);
  const got = gaussianBlurPlanes(f.data, 2, 7, 9, 5, 2);
  const g = gaussian1d(5, 2);
  for (let p = 0; p < 2; p++) {
    for (let y = 0; y < 7; y++) {
      for (let x = 0; x < 9; x++) {
        let s = 0;
        for (let a = 0; a < 5; a++) {
          for (let b = 0; b < 5; b++) {
            s += g[a] * g[b] *
              f.data[p * 63 + reflectIndex(y + a - 2, 7) * 9 + reflectIndex(x + b - 2, 9)];
          }
        }
        assert.ok(Math.abs(got[p * 63 + y * 9 + x] - s) < 1e-12);
      }
    }
  }
  const flat = gaussianBlurPlanes(new Float32Array(20).fill(0.25), 1, 4, 5, 9, 6);
  flat.forEach((v) => assert.ok(Math.abs(v - 0.25) < 1e-7));
});

Deno.test("torchSortOrder sorts, keeps short rows stable and survives the heapsort fallback", () => {
  const r = rng(3);
  for (const n of [1, 2, 9, 16, 17, 25, 81, 200]) {
    for (const levels of [3, 1000]) {
      const values = Float32Array.from({ length: n }, () => Math.floor(r() * levels));
      for (const depth of [undefined, 0, 1]) {
        const order = Int32Array.from({ length: n }, (_, k) => k);
        torchSortOrder(values, order, depth);
        assert.deepEqual(
          Array.from(order).sort((a, b) => a - b),
          Array.from({ length: n }, (_, k) => k),
        );
        for (let k = 1; k < n; k++) assert.ok(values[order[k - 1]] <= values[order[k]]);
        if (n <= 16 && depth === undefined) {
          for (let k = 1; k < n; k++) {
            if (values[order[k - 1]] === values[order[k]]) assert.ok(order[k - 1] < order[k]);
          }
        }
      }
    }
  }
});

Deno.test("stableArgsort orders like a stable comparator sort (negatives, ties, signed zeros)", () => {
  const r = rng(12);
  for (const n of [1, 5, 25, 81, 300]) {
    const values = Float32Array.from({ length: n + 3 }, () => Math.round((r() - 0.5) * 8) / 4);
    values[1] = -0;
    values[2] = 0;
    const offset = 2;
    const order = new Int32Array(n), keys = new Float64Array(n);
    stableArgsort(values, offset, n, keys, order);
    const expected = Array.from({ length: n }, (_, k) => k).sort((a, b) =>
      values[offset + a] - values[offset + b] || a - b
    );
    assert.deepEqual(Array.from(order), expected, `n=${n}`);
  }
});

Deno.test("k-NN window errors average the k nearest non-overlapping complete windows", () => {
  const T = 3, C = 2, H = 9, W = 8, k = 3, f = randomMap(C, H, W, 21);
  const sortedWindow = (y0: number, x0: number, reflect: boolean) =>
    Array.from({ length: C }, (_, c) => {
      const v: number[] = [];
      for (let dy = 0; dy < T; dy++) {
        for (let dx = 0; dx < T; dx++) {
          const y = reflect ? reflectIndex(y0 + dy, H) : y0 + dy;
          const x = reflect ? reflectIndex(x0 + dx, W) : x0 + dx;
          v.push(f.data[c * H * W + y * W + x]);
        }
      }
      return v;
    });
  let visited = 0;
  forEachKnnWindow(f, T, { k }, (i, j, errors) => {
    visited++;
    const raw = sortedWindow(i - 1, j - 1, true);
    const sorted = raw.map((v) => [...v].sort((a, b) => a - b));
    const cands: { d: number; ref: number[][] }[] = [];
    for (let cy = 1; cy < H - 1; cy++) {
      for (let cx = 1; cx < W - 1; cx++) {
        if (Math.abs(cy - i) < T && Math.abs(cx - j) < T) continue;
        const ref = sortedWindow(cy - 1, cx - 1, false).map((v) => v.sort((a, b) => a - b));
        let d = 0;
        for (let c = 0; c < C; c++) {
          for (let r = 0; r < T * T; r++) d += Math.abs(sorted[c][r] - ref[c][r]);
        }
        cands.push({ d, ref });
      }
    }
    cands.sort((a, b) => a.d - b.d);
    for (let q = 0; q < T * T; q++) {
      let e = 0;
      for (let c = 0; c < C; c++) {
        // Rank of value q within its channel, ties in raster order.
        const rank = raw[c].filter((v, p) => v < raw[c][q] || (v === raw[c][q] && p < q)).length;
        for (let m = 0; m < k; m++) e += Math.abs(raw[c][q] - cands[m].ref[c][rank]);
      }
      assert.ok(Math.abs(errors[q] - e / (k * C)) < 1e-6, `window (${i},${j}) value ${q}`);
    }
  });
  assert.equal(visited, H * W);
});
