/**
 * Metric tests: hand-computed tiny cases (worked out in the comments) and the official MVTec AD
 * evaluation's own outputs on real FCA maps (`golden/metrics/expected.json`).
 */
import assert from "node:assert/strict";
import { computePixelMetrics, type EvalSample } from "../src/eval/pixel_metrics.ts";
import { classificationRoc, imageAuroc } from "../src/eval/image_auroc.ts";
import { trapezoid } from "../src/eval/trapezoid.ts";
import { labelComponents } from "../src/base/components.ts";
import { keyToScore, scoreKey } from "../src/eval/score_key.ts";
import { prepareSample } from "../src/eval/prepare.ts";
import { readNpy } from "../src/io/npy.ts";
import { decodeGrayMask } from "../src/io/decode.ts";
import { exists, GOLDEN_DIR, rng, skipWithoutShared } from "./_shared.ts";

const close = (a: number | null, b: number, tol = 1e-9, what = "") =>
  assert.ok(a !== null && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

function sample(w: number, h: number, scores: number[], mask: number[] | null): EvalSample {
  return {
    width: w,
    height: h,
    scores: Float32Array.from(scores),
    mask: mask && Uint8Array.from(mask),
  };
}

Deno.test("pixel metrics: 3x3 image with two regions (8-connected), hand-computed", async () => {
  // scores            mask      regions: r1 = {(0,0)} (1 px), r2 = right column (3 px)
  // 0.9 0.1 0.6       1 0 1     normal scores: 0.1 ×4, 0.5     defect: 0.9 (r1), 0.6, 0.6, 0.2 (r2)
  // 0.1 0.1 0.6       0 0 1
  // 0.5 0.1 0.2       0 0 1
  // Thresholds from high to low -> (FPR, PRO): 0.9 (0, 1/2), 0.6 (0, (1 + 2/3)/2 = 5/6),
  // 0.5 (1/5, 5/6), 0.2 (1/5, 1), 0.1 (1, 1). Area to FPR 0.3: 0.2·5/6 + 0.1·1 = 4/15;
  // AU-PRO = (4/15)/0.3 = 8/9.
  // AUROC (pairs defect > normal): 0.9 → 5, 0.6 → 5 (twice), 0.2 → 4: 19/20.
  // F1 per threshold: 0.9: P 1, R 1/4 → 0.4; 0.6: P 1, R 3/4 → 6/7; 0.5: P 3/4, R 3/4 → 3/4;
  // 0.2: P 4/5, R 1 → 8/9; 0.1: P 4/9, R 1 → 8/13. Max 8/9 at 0.2.
  const s = sample(3, 3, [0.9, 0.1, 0.6, 0.1, 0.1, 0.6, 0.5, 0.1, 0.2], [
    1,
    0,
    1,
    0,
    0,
    1,
    0,
    0,
    1,
  ]);
  for (const slots of [128, 1]) {
    const m = await computePixelMetrics([() => s], { slots });
    close(m.auPro, 8 / 9, 1e-7, "AU-PRO");
    close(m.pixelAuroc, 19 / 20, 1e-12, "AUROC");
    close(m.maxF1, (2 * 0.8) / (1.8 + 1e-8), 1e-12, "max F1");
    assert.equal(m.maxF1Threshold, Math.fround(0.2));
    assert.equal(m.regions, 2);
    assert.equal(m.okPixels, 5);
    assert.equal(m.defectPixels, 4);
    assert.equal(m.distinctScores, 5);
    assert.deepEqual(m.imageScores, [Math.fround(0.9)]);
    assert.deepEqual(m.imageLabels, [true]);
  }
});

Deno.test("pixel metrics: ties between classes and the 0.3 cut-off interpolation", async () => {
  // scores 0.5 0.5 0.2 0.2, mask 1 0 0 0: one region; 3 normal pixels.
  // Threshold 0.5 takes the defect and one normal pixel together: one point (1/3, 1);
  // the PRO curve (0,0) → (1/3, 1) is cut at 0.3 with y = 0.3/(1/3) = 0.9:
  // area 0.5·0.9·0.3 = 0.135, AU-PRO = 0.45 (FPR is float32 like the reference: 1/3 → 0.33333334).
  // AUROC: defect vs {0.5 tie → 1/2, 0.2, 0.2}: 2.5/3. F1 at 0.5: P 1/2, R 1 → 2/3; at 0.2: 2/5.
  const s = sample(4, 1, [0.5, 0.5, 0.2, 0.2], [1, 0, 0, 0]);
  const m = await computePixelMetrics([() => s]);
  const x = Math.fround(1 / 3);
  close(m.auPro, (0.5 * (0.3 / x) * 0.3) / 0.3, 1e-12, "AU-PRO");
  close(m.auPro, 0.45, 1e-6, "AU-PRO ≈ 0.45");
  close(m.pixelAuroc, 2.5 / 3, 1e-12, "AUROC");
  close(m.maxF1, 1 / (1.5 + 1e-8), 1e-12, "max F1");
});

/**
 * Independent pixel metrics by brute force: AUROC over all (defect, normal) pairs (a tie counts
 * ½); PRO as compute_pro does it (per distinct threshold, FPR = float32 count / float32 total,
 * PRO = mean over regions of the covered fraction; trapezoid to 0.3 with interpolation); max F1
 * over thresholds. `regions` lists each image's regions as pixel index lists.
 */
function bruteForceMetrics(
  images: { scores: Float32Array; regions: number[][] }[],
  limit = 0.3,
): { auroc: number; auPro: number; maxF1: number } {
  const normal: number[] = [], defect: number[] = [];
  const regions: Float32Array[] = [];
  for (const im of images) {
    const inRegion = new Set(im.regions.flat());
    im.scores.forEach((v, i) => (inRegion.has(i) ? defect : normal).push(v));
    for (const r of im.regions) regions.push(Float32Array.from(r, (i) => im.scores[i]));
  }
  let wins = 0;
  for (const d of defect) for (const n of normal) wins += d > n ? 1 : d === n ? 0.5 : 0;
  const auroc = wins / (defect.length * normal.length);

  const thresholds = [...new Set([...normal, ...defect])].sort((a, b) => b - a);
  const xs = [0], ys = [0];
  let maxF1 = -1;
  for (const t of thresholds) {
    const fp = normal.filter((v) => v >= t).length, tp = defect.filter((v) => v >= t).length;
    xs.push(Math.fround(Math.fround(fp) / Math.fround(normal.length)));
    ys.push(
      regions.reduce((s, r) => s + r.filter((v) => v >= t).length / r.length, 0) /
        regions.length,
    );
    if (tp > 0) {
      const p = tp / (tp + fp), rec = tp / defect.length;
      maxF1 = Math.max(maxF1, (2 * p * rec) / (p + rec + 1e-8));
    }
  }
  xs.push(1);
  ys.push(1);
  let area = 0;
  for (let i = 1; i < xs.length && xs[i - 1] < limit; i++) {
    const x1 = Math.min(xs[i], limit);
    const y1 = xs[i] > limit
      ? ys[i - 1] + ((ys[i] - ys[i - 1]) * (limit - xs[i - 1])) / (xs[i] - xs[i - 1])
      : ys[i];
    area += ((x1 - xs[i - 1]) * (ys[i - 1] + y1)) / 2;
  }
  return { auroc, auPro: area / limit, maxF1 };
}

Deno.test("pixel metrics: many ties (quantised scores) against brute-force pairs and PRO", async () => {
  // Three 23×19 images, scores quantised to 12 levels so that almost every threshold holds
  // normal and defect pixels together; defect pixels score higher on average. Rectangular
  // regions (two in the first image, one in the second; the third image is good).
  const W = 23, H = 19;
  const r = rng(17);
  const rects = [[[2, 3, 6, 4], [14, 10, 5, 7]], [[8, 1, 9, 3]], []];
  const images = rects.map((list) => {
    const regions = list.map(([x0, y0, w, h]) => {
      const px: number[] = [];
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) px.push(y * W + x);
      return px;
    });
    const inRegion = new Set(regions.flat());
    const scores = Float32Array.from({ length: W * H }, (_, i) => {
      const level = Math.floor(r() * 9) + (inRegion.has(i) ? 3 : 0);
      return level / 11;
    });
    const mask = Uint8Array.from({ length: W * H }, (_, i) => inRegion.has(i) ? 255 : 0);
    return { scores, regions, mask };
  });
  const want = bruteForceMetrics(images);
  assert.ok(want.auroc > 0.6 && want.auroc < 0.95, `a case with overlap: ${want.auroc}`);
  for (const slots of [128, 1]) {
    const m = await computePixelMetrics(
      images.map((im) => () => ({ width: W, height: H, scores: im.scores, mask: im.mask })),
      { slots },
    );
    assert.equal(m.distinctScores, 12);
    assert.equal(m.regions, 3);
    close(m.pixelAuroc, want.auroc, 1e-12, "AUROC vs pairs");
    close(m.auPro, want.auPro, 1e-12, "AU-PRO vs brute force");
    close(m.maxF1, want.maxF1, 1e-12, "max F1 vs brute force");
  }
  // Image level: ties between a good and a defective image's maxima count ½ as well.
  const scores = [0.5, 0.5, 0.25, 0.75, 0.25, 0.5],
    labels = [true, false, false, true, true, false];
  let wins = 0, pairs = 0;
  scores.forEach((d, i) => {
    if (!labels[i]) return;
    scores.forEach((n, j) => {
      if (labels[j]) return;
      pairs++;
      wins += d > n ? 1 : d === n ? 0.5 : 0;
    });
  });
  close(imageAuroc(scores, labels), wins / pairs, 1e-12, "image AUROC vs pairs");
});

Deno.test("pixel metrics: regions are averaged over all images; good images add normal pixels", async () => {
  // Image A: one 1-px region scored 0.9; image B: one 2-px region scored 0.8, 0.4; a good image
  // of four 0.3s. Normal pixels: A 0.1 ×3, B 0.2 ×2, good 0.3 ×4 → 9.
  // Points: 0.9 (0, 1/2), 0.8 (0, 3/4), 0.4 (0, 1), 0.3 (4/9, 1), ... Area to 0.3 = 0.3 → AU-PRO 1.
  // AUROC: 0.9, 0.8 beat all 9, 0.4 beats all 9 → 1. Image AUROC: scores A .9, B .8, good .3 → 1.
  const a = sample(2, 2, [0.9, 0.1, 0.1, 0.1], [1, 0, 0, 0]);
  const b = sample(2, 2, [0.8, 0.4, 0.2, 0.2], [1, 1, 0, 0]);
  const g = sample(2, 2, [0.3, 0.3, 0.3, 0.3], null);
  const m = await computePixelMetrics([() => a, () => b, () => g]);
  assert.equal(m.regions, 2);
  assert.equal(m.okPixels, 9);
  close(m.auPro, 1, 1e-12, "AU-PRO");
  close(m.pixelAuroc, 1, 1e-12, "AUROC");
  assert.deepEqual(m.imageLabels, [true, true, false]);
  close(imageAuroc(m.imageScores, m.imageLabels), 1, 0, "image AUROC");
  // Swap: the good image now scores 0.85 everywhere, above image B's region.
  // PRO points: 0.9 (0, 1/2), 0.85 (4/9, 1/2) → beyond 0.3 with the same y: area 0.3·1/2 → 0.5.
  const g2 = sample(2, 2, [0.85, 0.85, 0.85, 0.85], null);
  const m2 = await computePixelMetrics([() => a, () => b, () => g2]);
  close(m2.auPro, 0.5, 1e-7, "AU-PRO with a bright good image");
});

Deno.test("pixel metrics: undefined metrics are null", async () => {
  const good = sample(2, 1, [0.1, 0.2], null);
  const m = await computePixelMetrics([() => good]);
  assert.equal(m.auPro, null);
  assert.equal(m.pixelAuroc, null);
  assert.equal(m.maxF1, null);
  const allDefect = sample(2, 1, [0.1, 0.2], [1, 1]);
  const m2 = await computePixelMetrics([() => allDefect]);
  assert.equal(m2.pixelAuroc, null);
  assert.equal(m2.auPro, null);
  close(m2.maxF1, 2 / (2 + 1e-8), 1e-12, "F1 of an all-defect set at the lowest threshold");
  await assert.rejects(() => computePixelMetrics([() => sample(1, 1, [NaN], null)]), /NaN/);
});

Deno.test("image AUROC: hand-computed, ties and missing classes", () => {
  // Defective 0.35 beats 0.1 but not 0.4; 0.8 beats both: 3 of 4 pairs.
  close(imageAuroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75, 1e-15, "pairs");
  // A tie counts half (one merged ROC point).
  close(imageAuroc([0.5, 0.5], [false, true]), 0.5, 1e-15, "tie");
  assert.deepEqual(classificationRoc([0.5, 0.5], [false, true]), { fpr: [0, 1], tpr: [0, 1] });
  assert.equal(imageAuroc([0.2, 0.3], [true, true]), null);
  assert.equal(imageAuroc([0.2, 0.3], [false, false]), null);
});

Deno.test("trapezoid: cut-off inside a segment, at a point, and without a limit", () => {
  // (0,0)-(0.2,1): 0.1; then y stays 1 to 0.3: 0.1 → 0.2.
  close(trapezoid([0, 0.2, 0.5, 1], [0, 1, 1, 1], 0.3), 0.2, 1e-15, "interpolated");
  // Interpolation on a slope: (0,0)-(1,1) cut at 0.5 → 0.125.
  close(trapezoid([0, 1], [0, 1], 0.5), 0.125, 1e-15, "slope");
  close(trapezoid([0, 0.5, 1], [0, 1, 1], 0.5), 0.25, 1e-15, "limit is a point");
  close(trapezoid([0, 0.5, 1], [0, 1, 1]), 0.75, 1e-15, "whole curve");
  close(trapezoid([0, NaN, 1], [0, 5, 1]), 0.5, 1e-15, "non-finite points dropped");
});

Deno.test("connected components: 8-connectivity, raster-order labels, sizes", () => {
  // 1 . 1 . .      diagonal touches join: {(0,0),(1,1),(0,2)} via (1,1); (2,4),(3,3) join too;
  // . 1 . . .      (3,0) alone. Labels in raster order of each component's first pixel.
  // . . . . 1
  // 1 . . 1 .
  const mask = [1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0];
  const c = labelComponents(mask, 5, 4);
  assert.equal(c.count, 3);
  assert.deepEqual([...c.sizes], [0, 3, 2, 1]);
  assert.deepEqual([...c.labels], [1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 3, 0, 0, 2, 0]);
  // A U shape whose arms meet only at the bottom: one component (label merging).
  const u = labelComponents([1, 0, 1, 1, 0, 1, 1, 1, 1], 3, 3);
  assert.equal(u.count, 1);
  assert.deepEqual([...u.sizes], [0, 7]);
  // 4-connected-only would split this anti-diagonal; 8-connectivity keeps it whole.
  assert.equal(labelComponents([0, 0, 1, 0, 1, 0, 1, 0, 0], 3, 3).count, 1);
});

Deno.test("score keys preserve float32 order; −0 equals +0; NaN is rejected", () => {
  const values = [-Infinity, -3.5, -1e-30, 0, 1e-40, 1e-30, 0.1, 0.5, 2, Infinity];
  const keys = values.map(scoreKey);
  for (let i = 1; i < keys.length; i++) assert.ok(keys[i] > keys[i - 1], `${values[i]}`);
  assert.equal(scoreKey(-0), scoreKey(0));
  assert.equal(scoreKey(NaN), -1);
  for (const v of values) assert.equal(keyToScore(scoreKey(v)), Math.fround(v));
});

Deno.test("prepare: crop and map-to-mask resize", () => {
  const map = { width: 4, height: 4, data: Float32Array.from({ length: 16 }, (_, i) => i) };
  const mask = { width: 4, height: 4, data: new Uint8Array(16).fill(0) };
  mask.data[5] = 255;
  const s = prepareSample(map, mask, { crop: 1 });
  assert.deepEqual([...s.scores], [5, 6, 9, 10]);
  assert.deepEqual([...s.mask!], [1, 0, 0, 0]);
  assert.throws(() => prepareSample(map, null, { crop: 2 }), /crop 2/);
  // A 2×1 map [0, 1] onto a 4×1 mask: skimage taps at −0.25, 0.25, 0.75, 1.25 with mirrored
  // borders → 0.25, 0.25, 0.75, 0.75.
  const up = prepareSample({ width: 2, height: 1, data: Float32Array.of(0, 1) }, {
    width: 4,
    height: 1,
    data: new Uint8Array(4),
  });
  assert.deepEqual([...up.scores], [0.25, 0.25, 0.75, 0.75]);
  // --eval-size with a 4-wide mask [0,0,0,255] shrunk to 2: the σ = 0.5 anti-aliasing blur
  // (radius 2) spreads the defect into pixels 1..3, so both output pixels are > 0 (defect);
  // plain bilinear would give 0.5·(m0 + m1) = 0 for the first.
  const ev = prepareSample({ width: 4, height: 1, data: new Float32Array(4) }, {
    width: 4,
    height: 1,
    data: Uint8Array.of(0, 0, 0, 255),
  }, { evalSize: 2 });
  assert.equal(ev.width, 2);
  assert.equal(ev.height, 2);
  assert.deepEqual([...ev.mask!], [1, 1, 1, 1]);
});

const GOLDEN_METRICS = `${GOLDEN_DIR}/metrics`;
Deno.test({
  name: "golden: official MVTec evaluation outputs on real FCA maps, crop 0 and 8",
  ignore: skipWithoutShared(exists(`${GOLDEN_METRICS}/expected.json`)),
  fn: async () => {
    const expected = JSON.parse(await Deno.readTextFile(`${GOLDEN_METRICS}/expected.json`));
    const raw: {
      map: { width: number; height: number; data: Float32Array };
      mask: { width: number; height: number; data: Uint8Array } | null;
    }[] = [];
    for (const item of expected.items) {
      const a = await readNpy(`${GOLDEN_METRICS}/${item.map}`);
      const mask = item.mask
        ? decodeGrayMask(await Deno.readFile(`${GOLDEN_METRICS}/${item.mask}`), item.mask)
        : null;
      raw.push({ map: { height: a.shape[0], width: a.shape[1], data: a.data }, mask });
    }
    for (const crop of [0, 8]) {
      const samples = raw.map((r) => prepareSample(r.map, r.mask, { crop }));
      const m = await computePixelMetrics(samples.map((s) => () => s));
      const e = expected.metrics[`crop${crop}`];
      close(m.auPro, e.au_pro_0_3, 1e-6, `crop ${crop} AU-PRO`);
      close(m.pixelAuroc, e.pixel_auroc, 1e-6, `crop ${crop} pixel AUROC`);
      close(m.maxF1, e.max_f1, 1e-6, `crop ${crop} max F1`);
      close(
        imageAuroc(m.imageScores, m.imageLabels),
        e.image_auroc,
        1e-12,
        `crop ${crop} image AUROC`,
      );
    }
  },
});
