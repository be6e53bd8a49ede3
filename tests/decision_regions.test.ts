/**
 * Regions (8-connected components above a threshold), the region score and the thresholds.
 */
import assert from "node:assert/strict";
import { findRegions, interiorMask, label8, regionScore } from "../src/decision/regions.ts";
import { resolveThreshold, robustStats, zeroShotThreshold } from "../src/decision/threshold.ts";
import type { ScalarMap } from "../src/fca/types.ts";
import { mulberry32 } from "../src/base/rng.ts";

/** A map from rows of digits (value = digit). */
function mapOf(rows: string[]): ScalarMap {
  const height = rows.length, width = rows[0].length;
  const data = new Float32Array(width * height);
  rows.forEach((r, y) => [...r].forEach((c, x) => (data[y * width + x] = Number(c))));
  return { width, height, data };
}

Deno.test("two blobs: two regions with exact boxes, areas, centroids, peaks, means", () => {
  const map = mapOf([
    "0000000000",
    "0550000000",
    "0590000000",
    "0000000000",
    "0000006660",
    "0000006660",
    "0000006670",
  ]);
  const r = findRegions(map, 1);
  assert.equal(r.omitted, 0);
  assert.equal(r.regions.length, 2);
  // Largest first: the 3×3 blob (9 px) before the 2×2 one (4 px).
  assert.deepEqual(r.regions[0], {
    bbox: { x: 6, y: 4, width: 3, height: 3 },
    area: 9,
    centroid: { x: 7, y: 5 },
    peak: 7,
    mean: (8 * 6 + 7) / 9,
  });
  assert.deepEqual(r.regions[1], {
    bbox: { x: 1, y: 1, width: 2, height: 2 },
    area: 4,
    centroid: { x: 1.5, y: 1.5 },
    peak: 9,
    mean: (5 + 5 + 5 + 9) / 4,
  });
  assert.equal(r.mask.reduce((a, b) => a + b, 0), 13);
  // minArea drops the small one; the mask follows.
  const big = findRegions(map, 1, { minArea: 5 });
  assert.equal(big.regions.length, 1);
  assert.equal(big.mask.reduce((a, b) => a + b, 0), 9);
  // The threshold is strict: nothing is above 9.
  assert.equal(findRegions(map, 9).regions.length, 0);
  assert.equal(findRegions(map, 8.5).regions[0].area, 1);
});

Deno.test("8-connectivity: diagonal neighbours join, a gap separates", () => {
  const diag = mapOf([
    "100",
    "010",
    "001",
  ]);
  const r = findRegions(diag, 0.5);
  assert.equal(r.regions.length, 1);
  assert.equal(r.regions[0].area, 3);
  assert.deepEqual(r.regions[0].bbox, { x: 0, y: 0, width: 3, height: 3 });
  // Anti-diagonal, joining only through an up-right neighbour (NE case of the raster scan).
  const anti = mapOf([
    "0011",
    "0100",
    "1000",
  ]);
  assert.equal(findRegions(anti, 0.5).regions.length, 1);
  // A U shape whose arms meet late (union of two provisional labels).
  const u = mapOf([
    "10001",
    "10001",
    "01110",
  ]);
  const lu = label8(u.data, 5, 3);
  assert.equal(lu.count, 1);
  const apart = mapOf([
    "1010",
    "0000",
    "1001",
  ]);
  assert.equal(findRegions(apart, 0.5).regions.length, 4);
});

Deno.test("cap: at most maxRegions listed, the rest counted; ties in raster order", () => {
  const rows = ["1010101", "0000000", "1010101"];
  const r = findRegions(mapOf(rows), 0.5, { maxRegions: 3 });
  assert.equal(r.regions.length, 3);
  assert.equal(r.omitted, 5);
  assert.deepEqual(r.regions.map((g) => [g.bbox.x, g.bbox.y]), [[0, 0], [2, 0], [4, 0]]);
  // The mask holds every kept region, listed or not.
  assert.equal(r.mask.reduce((a, b) => a + b, 0), 8);
});

Deno.test("border band: pixels near the edge never form regions", () => {
  const map = mapOf([
    "9999",
    "9009",
    "9059",
    "9999",
  ]);
  const r = findRegions(map, 1, { border: 1 });
  assert.equal(r.regions.length, 1);
  assert.equal(r.regions[0].area, 1);
  assert.deepEqual(r.regions[0].centroid, { x: 2, y: 2 });
  assert.deepEqual([...interiorMask(4, 3, 1)], [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  assert.equal(regionScore(map, 1, 1), 5);
  assert.equal(regionScore(map, 2, 1), 0);
});

Deno.test("region score: a region survives exactly when the score is above the threshold", () => {
  const rng = mulberry32(7);
  for (let trial = 0; trial < 20; trial++) {
    const w = 13, h = 11, data = new Float32Array(w * h);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(rng() * 10);
    const map = { width: w, height: h, data };
    for (const minArea of [1, 3, 8, 30]) {
      const border = trial % 3;
      const s = regionScore(map, minArea, border);
      for (let t = -0.5; t <= 10; t += 0.5) {
        const has = findRegions(map, t, { minArea, border }).regions.length > 0;
        assert.equal(has, s > t, `trial ${trial} minArea ${minArea} t ${t} s ${s}`);
      }
    }
  }
  assert.equal(regionScore(mapOf(["12", "34"]), 5), -Infinity);
  assert.equal(regionScore(mapOf(["12", "34"])), 4);
});

Deno.test("robust statistics and the zero-shot threshold", () => {
  assert.deepEqual(robustStats([1, 2, 3, 4, 100]), { median: 3, mad: 1 });
  assert.deepEqual(robustStats([1, 2, 3, 4]), { median: 2.5, mad: 1 });
  assert.deepEqual(robustStats([5, NaN, 7], [1, 1, 0]), { median: 5, mad: 0 });
  const map = mapOf(["12345", "67890"]);
  const z = zeroShotThreshold(map, { alpha: 0, k: 2 });
  assert.equal(z.stats.median, 4.5);
  assert.equal(z.stats.mad, 2.5);
  assert.equal(z.value, 9.5);
  // Scale and offset equivariance.
  const scaled = { ...map, data: map.data.map((v) => 3 * v - 7) };
  assert.ok(Math.abs(zeroShotThreshold(scaled, { alpha: 0, k: 2 }).value - (3 * 9.5 - 7)) < 1e-9);
  // Half maximum: median + 0.5·(peak − median); the MAD floor wins when larger.
  const half = zeroShotThreshold(map, { alpha: 0.5, k: 0 });
  assert.equal(half.stats.peak, 9);
  assert.equal(half.value, 6.75);
  assert.equal(zeroShotThreshold(map, { alpha: 0.5, k: 1.5 }).value, 4.5 + 3.75);
  assert.ok(
    Math.abs(zeroShotThreshold(scaled, { alpha: 0.5, k: 0 }).value - (3 * 6.75 - 7)) < 1e-9,
  );
  // The peak with minArea ignores an isolated hot pixel.
  const hot = mapOf(["00000", "01110", "01110", "00009"]);
  assert.equal(zeroShotThreshold(hot, { alpha: 0.5, k: 0, minArea: 4 }).stats.peak, 1);
  assert.equal(zeroShotThreshold(hot, { alpha: 0.5, k: 0 }).stats.peak, 9);
  // A constant map: nothing above.
  const flat = mapOf(["333", "333"]);
  assert.equal(zeroShotThreshold(flat).value, 3);
  // Source order: explicit, profile, zero-shot.
  assert.deepEqual(resolveThreshold(map, { explicit: 2, profile: 3 }), {
    value: 2,
    source: "explicit",
  });
  assert.deepEqual(resolveThreshold(map, { profile: 3 }), { value: 3, source: "profile" });
  assert.deepEqual(resolveThreshold(map, { rule: { alpha: 0, k: 2 } }), {
    value: 9.5,
    source: "zero-shot",
  });
  assert.throws(() => resolveThreshold(map, { explicit: NaN }), /finite/);
});
