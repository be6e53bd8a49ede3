import assert from "node:assert/strict";
import {
  comboKey,
  comboParams,
  type ComboResult,
  mapGeometry,
  parseCombos,
  renderTables,
  scaledPatch,
  table1Combos,
  table2Combos,
} from "../bench/ablation.ts";

const S = { size: 256, featureSize: 64, paperPatch: 25 };

Deno.test("ablation: T keeps the paper's 25-px context at every map side (odd, >= 3)", () => {
  // 25 px of 256 on a 32-px map is 3.1 px; on a 64-px map 6.25; on 128 12.5; on the full
  // 256 map the paper's 25 itself; 6 lies between 5 and 7 (ties go up).
  assert.equal(scaledPatch(25, 32, 256), 3);
  assert.equal(scaledPatch(25, 64, 256), 7);
  assert.equal(scaledPatch(25, 128, 256), 13);
  assert.equal(scaledPatch(25, 256, 256), 25);
  assert.equal(scaledPatch(6, 256, 256), 7);
  assert.equal(scaledPatch(25, 8, 256), 3);
  for (let side = 8; side <= 512; side += 8) assert.equal(scaledPatch(25, side, 256) % 2, 1);
});

Deno.test("ablation: geometry and σ per combination follow the authors' configs", () => {
  assert.deepEqual(mapGeometry("onnx", S), { imageSize: 256, mapSide: 32 });
  assert.deepEqual(mapGeometry("vgg", S), { imageSize: 64, mapSide: 64 });
  const c = (features: "onnx" | "laws", stats: "fca" | "sww" | "hist") =>
    comboParams({ features, stats, reference: "median", every: 1 }, S);
  assert.deepEqual(c("onnx", "fca"), { patch: 3, sigmaP: 3, sigmaS: 1 });
  assert.deepEqual(c("laws", "sww"), { patch: 7, sigmaP: 6, sigmaS: 1 });
  assert.equal(c("laws", "hist").patch, 7);
});

Deno.test("ablation: --combos presets and explicit entries, duplicates dropped, bad entries throw", () => {
  const t1 = parseCombos("table1");
  assert.equal(t1.length, 25);
  assert.equal(new Set(t1.map(comboKey)).size, 25);
  assert.ok(t1.every((c) => c.reference === "median"));
  const all = parseCombos("all,table1,onnx/fca/median");
  assert.equal(all.length, table1Combos().length + table2Combos().length);
  assert.deepEqual(parseCombos("vgg/sww/random/5"), [
    { features: "vgg", stats: "sww", reference: "random", every: 5 },
  ]);
  assert.throws(() => parseCombos("vgg/sww"), /features\/stats\/reference/);
  assert.throws(() => parseCombos("vgg/sww/median/0"), /features\/stats\/reference/);
});

Deno.test("ablation: tables place each result in its row and column", () => {
  const r = (key: string, pro: number, auroc: number, images = 71): ComboResult => ({
    key,
    imageSize: 64,
    mapSide: 64,
    params: { patch: 7, sigmaP: 3, sigmaS: 1 },
    images,
    auPro: pro,
    pixelAuroc: auroc,
    imageAuroc: null,
    secondsPerImage: 1.5,
    statsSecondsPerImage: 1,
    wallSeconds: 120,
  });
  const md = renderTables({
    "laws/hist/median/1": r("laws/hist/median/1", 0.5, 0.75),
    "random/aota/median/3": r("random/aota/median/3", 0.25, 0.5, 24),
    "vgg/fca/random/1": r("vgg/fca/random/1", 0.125, 0.625),
  }, S);
  const row = (name: string) => md.split("\n").find((l) => l.startsWith(`| ${name} |`))!;
  // Columns: colors, random, laws, vgg, onnx.
  assert.deepEqual(row("hist").split(" | ").slice(1, 4), ["–", "–", "50.00 / 75.00"]);
  assert.match(row("aota"), /^\| aota \| – \| 25\.00 \/ 50\.00 \(24 img\) \|/);
  assert.match(row("random"), /12\.50 \/ 62\.50 \/ 1\.50 s/);
  assert.match(md, /Total wall time: 6\.0 min/);
});
