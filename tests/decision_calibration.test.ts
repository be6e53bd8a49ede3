/**
 * Quantiles, calibration profiles (write, load, refusal on mismatch) and score normalisation.
 */
import assert from "node:assert/strict";
import { StreamingHistogram, upperQuantile } from "../src/decision/quantile.ts";
import { Calibrator, MIN_CALIBRATION_IMAGES } from "../src/decision/calibrate.ts";
import {
  checkProfile,
  loadProfile,
  type Profile,
  profileThreshold,
  settingsDiff,
  writeProfile,
} from "../src/decision/profile.ts";
import { normalizeScore } from "../src/decision/normalize.ts";
import { mulberry32 } from "../src/base/rng.ts";

Deno.test("upperQuantile: exact, at most fpr strictly above, smallest such value", () => {
  const v = Array.from({ length: 100 }, (_, i) => 99 - i); // 0..99 shuffled order
  assert.equal(upperQuantile(v, 0.05), 94); // 95th smallest: 95..99 (5 values) above
  assert.equal(upperQuantile(v, 0.01), 98);
  assert.equal(upperQuantile(v, 0), 99);
  assert.equal(upperQuantile(v, 0.999), 0);
  assert.equal(upperQuantile([3, NaN, 1, 2], 0.5), 2);
  assert.ok(Number.isNaN(upperQuantile([], 0.1)));
  assert.throws(() => upperQuantile(v, 1), /fpr/);
  // 80 images at 5 %: the 76th smallest, 4 above.
  const w = Array.from({ length: 80 }, (_, i) => i);
  assert.equal(upperQuantile(w, 0.05), 75);
  // The property on random samples.
  const rng = mulberry32(3);
  for (const n of [1, 7, 100, 1001]) {
    const s = Array.from({ length: n }, () => rng());
    for (const fpr of [0.001, 0.01, 0.05, 0.3]) {
      const t = upperQuantile(s, fpr);
      const above = s.filter((x) => x > t).length;
      assert.ok(above <= fpr * n + 1e-9, `n ${n} fpr ${fpr}`);
      const below = s.filter((x) => x < t).length;
      assert.ok(n - below > fpr * n, "no smaller sample value qualifies");
    }
  }
});

Deno.test("StreamingHistogram: exact on a grid, conservative within one bin, range growth", () => {
  // Integers 0..999 with 1000 bins of width ~1: the quantile is exact (capped at the max seen).
  const h = new StreamingHistogram(1000);
  const ints = Float32Array.from({ length: 1000 }, (_, i) => i);
  h.add(ints.subarray(0, 500));
  h.add(ints.subarray(500)); // range doubles once
  assert.equal(h.count, 1000);
  assert.deepEqual(h.range, { min: 0, max: 999 });
  for (const fpr of [0.01, 0.05, 0.5]) {
    const exact = upperQuantile(ints, fpr);
    const q = h.quantile(fpr);
    assert.ok(q >= exact && q <= exact + h.binWidth, `fpr ${fpr}: ${q} vs ${exact}`);
  }
  // Random batches that widen the range both ways; counts stay exact.
  const rng = mulberry32(11);
  const g = new StreamingHistogram(4096);
  const all: number[] = [];
  for (let b = 0; b < 20; b++) {
    const scale = 1 + b, shift = b % 2 ? -b : b;
    const batch = Float32Array.from({ length: 500 }, () => (rng() - 0.5) * scale + shift);
    g.add(batch);
    all.push(...batch);
  }
  assert.equal(g.count, all.length);
  for (const fpr of [0.001, 0.01, 0.05, 0.2]) {
    const exact = upperQuantile(all, fpr);
    const q = g.quantile(fpr);
    assert.ok(q >= exact - 1e-6, `never below the exact quantile (${q} < ${exact})`);
    assert.ok(q <= exact + g.binWidth + 1e-6, "within one bin");
    assert.ok(all.filter((x) => x > q).length <= fpr * all.length);
  }
  // Valid mask, NaN and a constant stream.
  const c = new StreamingHistogram(16);
  c.add([5, 5, NaN, 100], [1, 1, 1, 0]);
  assert.equal(c.count, 2);
  assert.equal(c.quantile(0.1), 5);
});

const SETTINGS = { patch: 9, "sigma-p": 3, features: "onnx", size: "original" };

function goodMaps(n: number, seed = 1) {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const data = Float32Array.from({ length: 16 * 16 }, () => rng());
    return { width: 16, height: 16, data };
  });
}

Deno.test("Calibrator: thresholds for the false-alarm target; warns under 20 images", () => {
  const cal = new Calibrator({ fpr: 0.05, minArea: 1 });
  const maps = goodMaps(40);
  const scores = maps.map((m) => cal.add(m));
  const p = cal.profile({ settings: SETTINGS, modelSha256: "abc", created: "t" });
  assert.equal(p.images, 40);
  assert.equal(p.image.threshold, upperQuantile(scores, 0.05));
  assert.ok(scores.filter((s) => s > p.image.threshold).length <= 2);
  const pixels = maps.flatMap((m) => [...m.data]);
  const exact = upperQuantile(pixels, 0.05);
  assert.ok(p.pixel.threshold >= exact && p.pixel.threshold <= exact + p.pixel.binWidth);
  assert.equal(p.pixel.pixels, 40 * 256);
  assert.equal(p.image.min, Math.min(...scores));
  assert.equal(p.image.max, Math.max(...scores));
  assert.deepEqual(cal.warnings(), []);
  assert.equal(profileThreshold(p), p.image.threshold);
  assert.equal(profileThreshold(p, "pixel"), p.pixel.threshold);

  const few = new Calibrator({ fpr: 0.05 });
  for (const m of goodMaps(MIN_CALIBRATION_IMAGES - 1)) few.add(m);
  assert.match(few.warnings()[0], /only 19 good images: the thresholds are a rough estimate/);
  assert.throws(() => new Calibrator().profile({ settings: {}, modelSha256: "" }), /at least one/);
  // Border band: pixels near the edge are left out of both thresholds.
  const b = new Calibrator({ fpr: 0.5, border: 2 });
  b.add({
    width: 5,
    height: 5,
    data: Float32Array.from({ length: 25 }, (_, i) => (i === 12 ? 1 : 9)),
  });
  const bp = b.profile({ settings: {}, modelSha256: "" });
  assert.equal(bp.pixel.pixels, 1);
  assert.equal(bp.image.threshold, 1);
});

Deno.test("profiles: atomic write, load, one-line refusal of other settings or model", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fca-profile-" });
  try {
    const cal = new Calibrator({ fpr: 0.05 });
    for (const m of goodMaps(25)) cal.add(m);
    const p = cal.profile({ settings: SETTINGS, modelSha256: "f".repeat(64) });
    const path = `${dir}/profile.json`;
    await writeProfile(path, p);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["profile.json"]);
    const loaded = await loadProfile(path, { ...SETTINGS }, "f".repeat(64));
    assert.deepEqual(loaded, p);

    const oneLine = async (fn: () => Promise<unknown>, re: RegExp) => {
      await assert.rejects(fn, (e: Error) => {
        assert.match(e.message, re);
        assert.equal(e.message.split("\n").length, 1);
        return true;
      });
    };
    await oneLine(
      () => loadProfile(path, { ...SETTINGS, patch: 7 }, "f".repeat(64)),
      /profile\.json: calibrated with other settings \(patch 9 → 7\)/,
    );
    await oneLine(
      () => loadProfile(path, { ...SETTINGS, seed: 1 }, "f".repeat(64)),
      /seed unset → 1/,
    );
    await oneLine(
      () => loadProfile(path, SETTINGS, "0".repeat(64)),
      /calibrated with model ffffffffffff, this run uses 000000000000/,
    );
    await oneLine(() => loadProfile(`${dir}/missing.json`, SETTINGS, ""), /cannot read profile/);
    await Deno.writeTextFile(`${dir}/bad.json`, "{");
    await oneLine(() => loadProfile(`${dir}/bad.json`, SETTINGS, ""), /not valid JSON/);
    await Deno.writeTextFile(`${dir}/other.json`, `{"format": "x"}`);
    await oneLine(
      () => loadProfile(`${dir}/other.json`, SETTINGS, ""),
      /not an fca calibration profile/,
    );
    assert.deepEqual(settingsDiff({ a: 1, b: null }, { a: 1 }), []);
    assert.throws(() => checkProfile(p as Profile, {}, p.modelSha256), /other settings/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("normalizeScore: threshold at 0.5, clipped, increasing, step without a span", () => {
  assert.equal(normalizeScore(3, 3, 2), 0.5);
  assert.equal(normalizeScore(4, 3, 2), 1);
  assert.equal(normalizeScore(2, 3, 2), 0);
  assert.equal(normalizeScore(3.5, 3, 2), 0.75);
  assert.equal(normalizeScore(100, 3, 2), 1);
  assert.equal(normalizeScore(-100, 3, 2), 0);
  assert.equal(normalizeScore(4, 3, 0), 1);
  assert.equal(normalizeScore(3, 3, 0), 0.5);
  assert.equal(normalizeScore(2, 3, -1), 0);
  assert.equal(normalizeScore(NaN, 3, 1), 0);
});
