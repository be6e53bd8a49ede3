/**
 * The per-image decision record, its rendering (mask PNG, outlines, boxes) and the metrics at an
 * operating point.
 */
import assert from "node:assert/strict";
import { decide } from "../src/decision/decide.ts";
import { Calibrator } from "../src/decision/calibrate.ts";
import {
  drawBoxes,
  drawOutlines,
  encodeMaskPng,
  maskOutline,
  OUTLINE_COLOR,
} from "../src/io/outline.ts";
import { decodeGrayMask } from "../src/io/decode.ts";
import {
  imageRecordLine,
  OperatingPoint,
  operatingPointHook,
  scoreImage,
  writeImagesJsonl,
} from "../src/eval/operating_point.ts";
import type { Region } from "../src/decision/regions.ts";
import type { ScalarMap } from "../src/fca/types.ts";
import type { DatasetImage } from "../src/eval/dataset.ts";

/** A w×h map at `base` with rectangles [x, y, w, h, value]. */
function blobs(
  w: number,
  h: number,
  base: number,
  rects: [number, number, number, number, number][],
): ScalarMap {
  const data = new Float32Array(w * h).fill(base);
  for (let i = 0; i < data.length; i++) data[i] += ((i * 7919) % 13) / 1000; // texture noise
  for (const [x, y, rw, rh, v] of rects) {
    for (let yy = y; yy < y + rh; yy++) for (let xx = x; xx < x + rw; xx++) data[yy * w + xx] = v;
  }
  return { width: w, height: h, data };
}

Deno.test("decision: zero-shot threshold, two regions, verdict and normalised score", () => {
  const map = blobs(40, 30, 1, [[5, 5, 6, 4, 3], [25, 20, 3, 3, 2.5]]);
  const { decision, mask, score } = decide(map, { minArea: 4 });
  assert.equal(decision.threshold.source, "zero-shot");
  // median ≈ 1.006, peak 3: threshold ≈ 1.006 + 0.4 · (3 − 1.006) ≈ 1.804, both blobs above.
  assert.ok(Math.abs(decision.threshold.value - 1.804) < 0.01);
  assert.equal(decision.verdict, "defect");
  assert.deepEqual(decision.regions.map((r) => [r.area, r.bbox.x, r.bbox.y]), [[24, 5, 5], [
    9,
    25,
    20,
  ]]);
  assert.equal(decision.regions_omitted, 0);
  assert.equal(mask.reduce((a, b) => a + b, 0), 33);
  assert.equal(score, 3);
  // Score at the peak, span 2·(t − median): normalised (3 − t)/span + 0.5 = 1.
  assert.equal(decision.score_normalized, 1);
  assert.ok(JSON.parse(JSON.stringify(decision)).regions[0].centroid.x === 7.5);

  // Explicit threshold above everything: ok, below 0.5.
  const ok = decide(map, { threshold: 5, minArea: 4 }).decision;
  assert.deepEqual(ok.threshold, { value: 5, source: "explicit" });
  assert.equal(ok.verdict, "ok");
  assert.ok(ok.score_normalized < 0.5);
  // minArea above the small blob: one region.
  assert.equal(decide(map, { minArea: 10 }).decision.regions.length, 1);
});

Deno.test("decision with a profile: its image threshold, settings and span", () => {
  const cal = new Calibrator({ fpr: 0.05, minArea: 4 });
  for (let i = 0; i < 30; i++) cal.add(blobs(40, 30, 1, [[i, i % 20, 2, 2, 1.2 + i / 100]]));
  const profile = cal.profile({ settings: {}, modelSha256: "" });
  const bad = blobs(40, 30, 1, [[10, 10, 5, 5, 3]]);
  const d = decide(bad, { profile }).decision;
  assert.deepEqual(d.threshold, { value: profile.image.threshold, source: "profile" });
  assert.equal(d.verdict, "defect");
  assert.equal(d.score_normalized, 1);
  // A good map like the calibration ones: below the threshold.
  const good = decide(blobs(40, 30, 1, [[3, 3, 2, 2, 1.45]]), { profile }).decision;
  assert.equal(good.verdict, "ok");
  assert.ok(good.score_normalized < 0.5 && good.score_normalized > 0);
  // Explicit still wins over the profile.
  assert.equal(decide(bad, { profile, threshold: 10 }).decision.threshold.source, "explicit");
  // Verdict and normalised score agree (score_normalized > 0.5 ⇔ defect).
  for (let t = 1; t < 3.2; t += 0.1) {
    const r = decide(bad, { threshold: t, minArea: 4 }).decision;
    assert.equal(r.verdict === "defect", r.score_normalized > 0.5, `t ${t}`);
  }
});

Deno.test("mask PNG is 0/255 at input size; outlines and boxes drawn on a copy", () => {
  const w = 6, h = 5;
  const mask = new Uint8Array(w * h);
  for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) mask[y * w + x] = 1;
  const png = encodeMaskPng(mask, w, h);
  const back = decodeGrayMask(png, "mask");
  assert.equal(back.width, w);
  assert.equal(back.height, h);
  assert.deepEqual([...back.data], [...mask].map((v) => v * 255));
  assert.throws(() => encodeMaskPng(mask, 5, 5), /30 values, 5x5 expected/);

  const edge = maskOutline(mask, w, h);
  // A 3×3 square: its 8 border pixels, not the centre.
  assert.equal(edge.reduce((a, b) => a + b, 0), 8);
  assert.equal(edge[2 * w + 2], 0);
  const rgb = new Uint8Array(3 * w * h).fill(10);
  const drawn = drawOutlines(rgb, w, h, mask);
  assert.equal(rgb[3 * (w + 1)], 10, "input untouched");
  assert.deepEqual([...drawn.subarray(3 * (w + 1), 3 * (w + 1) + 3)], [...OUTLINE_COLOR]);
  assert.deepEqual([...drawn.subarray(3 * (2 * w + 2), 3 * (2 * w + 2) + 3)], [10, 10, 10]);
  const thick = drawOutlines(rgb, w, h, mask, [255, 0, 0], 2);
  assert.deepEqual([...thick.subarray(0, 3)], [255, 0, 0], "thickness reaches outside");
  const region: Region = {
    bbox: { x: 1, y: 1, width: 3, height: 3 },
    area: 9,
    centroid: { x: 2, y: 2 },
    peak: 1,
    mean: 1,
  };
  const boxed = drawBoxes(rgb, w, h, [region], [1, 2, 3]);
  assert.deepEqual([...boxed.subarray(3 * (3 * w + 3), 3 * (3 * w + 3) + 3)], [1, 2, 3]);
  assert.deepEqual([...boxed.subarray(3 * (2 * w + 2), 3 * (2 * w + 2) + 3)], [10, 10, 10]);
  assert.throws(() => drawOutlines(rgb, 5, 5, mask), /RGB8 buffer/);
});

Deno.test("operating point: pooled F1/IoU, region recall, image precision/recall", () => {
  const w = 10, h = 4;
  // Image A: two true regions, the prediction covers one of them and 2 false pixels.
  const scoresA = new Float32Array(w * h), maskA = new Uint8Array(w * h);
  for (const i of [0, 1, 10, 11]) maskA[i] = 1; // region 1 (4 px)
  for (const i of [8, 9]) maskA[i] = 1; // region 2 (2 px)
  for (const i of [0, 1, 10, 11, 20, 21]) scoresA[i] = 1; // 4 TP + 2 FP
  const a = scoreImage({ width: w, height: h, scores: scoresA, mask: maskA }, 0.5);
  assert.deepEqual(
    [a.predicted, a.truth, a.overlap, a.regions, a.regionsHit],
    [6, 6, 4, 2, 1],
  );
  assert.equal(a.maskF1, 8 / 12);
  // Image B: good, one false pixel. Image C: good, nothing. Image D: defective, missed.
  const b = scoreImage({
    width: w,
    height: h,
    scores: scoresA.map((_, i) => i === 5 ? 1 : 0),
    mask: null,
  }, 0.5);
  const c = scoreImage({ width: w, height: h, scores: new Float32Array(w * h), mask: null }, 0.5);
  const maskD = new Uint8Array(w * h).fill(0);
  maskD[39] = 1;
  const d = scoreImage({ width: w, height: h, scores: new Float32Array(w * h), mask: maskD }, 0.5);
  assert.equal(b.verdict, "defect");
  assert.equal(b.maskF1, null);
  assert.equal(c.verdict, "ok");
  assert.equal(d.maskF1, 0);
  const op = new OperatingPoint();
  for (const o of [a, b, c, d]) op.add(o);
  const r = op.result();
  // TP 4, FP 3, FN 3.
  assert.equal(r.maskF1, 8 / 14);
  assert.equal(r.maskIoU, 4 / 10);
  assert.equal(r.regionRecall, 1 / 3);
  assert.equal(r.imagePrecision, 1 / 2);
  assert.equal(r.imageRecall, 1 / 2);
  assert.equal(r.imageAccuracy, 2 / 4);
  assert.equal(r.falseAlarmRate, 1 / 2);
  // minArea drops the single false pixel of B.
  assert.equal(
    scoreImage(
      { width: w, height: h, scores: scoresA.map((_, i) => i === 5 ? 1 : 0), mask: null },
      0.5,
      {
        minArea: 2,
      },
    ).verdict,
    "ok",
  );
});

Deno.test("operating-point hook and images.jsonl", async () => {
  const hook = operatingPointHook({ profileThreshold: 0.5 });
  const item = (id: string): DatasetImage => ({
    category: "c",
    defect: "d",
    id,
    imagePath: `/data/${id}.png`,
    maskPath: null,
    rel: `test/d/${id}.png`,
  });
  const w = 8, h = 8, scores = new Float32Array(w * h), mask = new Uint8Array(w * h);
  scores[9] = scores[10] = 1;
  mask[9] = mask[10] = 1;
  hook.onSample(item("a"), { width: w, height: h, scores, mask });
  hook.onSample(item("b"), { width: w, height: h, scores: new Float32Array(w * h), mask: null });
  assert.equal(hook.zeroShot.result().maskF1, 1);
  assert.equal(hook.profile!.result().maskF1, 1);
  assert.equal(hook.records.length, 2);
  assert.deepEqual(hook.records[0], {
    path: "/data/a.png",
    score: 1,
    verdict: "defect",
    threshold: { value: 0.5, source: "profile" },
    mask_f1: 1,
  });
  assert.equal(hook.records[1].verdict, "ok");
  const dir = await Deno.makeTempDir();
  try {
    await writeImagesJsonl(`${dir}/images.jsonl`, hook.records);
    const lines = (await Deno.readTextFile(`${dir}/images.jsonl`)).trimEnd().split("\n");
    assert.equal(lines.length, 2);
    assert.deepEqual(JSON.parse(lines[1]), JSON.parse(imageRecordLine(hook.records[1])));
    assert.deepEqual(Object.keys(JSON.parse(lines[0])), [
      "path",
      "score",
      "verdict",
      "threshold",
      "mask_f1",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("zero-shot decisions do not depend on the map's scale or offset", () => {
  const map = blobs(48, 32, 1, [[5, 5, 6, 4, 3], [30, 20, 5, 5, 2.2], [40, 2, 1, 1, 9]]);
  const base = decide(map, { minArea: 4 });
  for (const [a, b] of [[2, 0], [0.01, -5], [1000, 3]]) {
    const scaled = { ...map, data: map.data.map((v) => a * v + b) };
    const d = decide(scaled, { minArea: 4 });
    assert.equal(d.decision.verdict, base.decision.verdict);
    assert.deepEqual(d.mask, base.mask);
    assert.deepEqual(
      d.decision.regions.map((r) => [r.bbox, r.area, r.centroid]),
      base.decision.regions.map((r) => [r.bbox, r.area, r.centroid]),
    );
    assert.ok(Math.abs(d.decision.score_normalized - base.decision.score_normalized) < 1e-4);
  }
  // The isolated hot pixel (9) is smaller than minArea: it neither forms a region nor sets the peak.
  assert.equal(base.score, 3);
  assert.equal(base.decision.regions.length, 2);
});
