import assert from "node:assert/strict";
import { medianReference } from "../src/fca/median_reference.ts";
import { histMap } from "../src/fca/stats/hist.ts";
import { anomalyMapCpu } from "../src/fca/stats/mod.ts";
import { momentsMap } from "../src/fca/stats/moments.ts";
import { swwMap } from "../src/fca/stats/sww.ts";
import { readNpy } from "../src/io/npy.ts";
import {
  GOLDEN_DIR,
  HAVE_GOLDEN,
  readGoldenFeatures,
  relativeMaxError,
  skipWithoutShared,
} from "./_shared.ts";

const DIR = "sww_random_T9";
const golden = async (name: string) => await readNpy(`${GOLDEN_DIR}/${DIR}/${name}.npy`);

Deno.test({
  name: "SWW with torch's tie order equals golden sww.npy (ScSWW T=9, sigma=3, median)",
  ignore: skipWithoutShared(HAVE_GOLDEN),
  async fn() {
    const f = await readGoldenFeatures(DIR);
    const expected = await golden("sww");
    const got = swwMap(f, medianReference(f, 9), 9, 3, "torch");
    assert.deepEqual([got.height, got.width], expected.shape);
    const err = relativeMaxError(got.data, expected.data);
    assert.ok(err <= 1e-5, `relative error ${err}`);
    // The stable tie order differs only where reflect padding duplicates values (borders).
    const stable = swwMap(f, medianReference(f, 9), 9, 3, "stable");
    const interior: number[] = [], interiorExpected: number[] = [];
    for (let i = 4; i < f.height - 4; i++) {
      for (let j = 4; j < f.width - 4; j++) {
        interior.push(stable.data[i * f.width + j]);
        interiorExpected.push(expected.data[i * f.width + j]);
      }
    }
    assert.ok(relativeMaxError(interior, interiorExpected) <= 1e-5);
    assert.ok(relativeMaxError(stable.data, expected.data) > 1e-4, "ties should matter at borders");
  },
});

Deno.test({
  name: "moments equals golden moments.npy (powers 1..4, 9 taps, sigma 6)",
  ignore: skipWithoutShared(HAVE_GOLDEN),
  async fn() {
    const f = await readGoldenFeatures(DIR);
    const expected = await golden("moments");
    const got = momentsMap(f, 9);
    assert.deepEqual([got.height, got.width], expected.shape);
    const err = relativeMaxError(got.data, expected.data);
    assert.ok(err <= 1e-5, `relative error ${err}`);
    const viaDesign = anomalyMapCpu(f, {
      stats: "moments",
      reference: "median",
      params: { patch: 9, sigmaP: 3, sigmaS: 1 },
      seed: 0,
    });
    assert.deepEqual(viaDesign.data, got.data);
  },
});

Deno.test({
  name: "hist equals golden hist.npy (10 bins, 9 taps, sigma 6)",
  ignore: skipWithoutShared(HAVE_GOLDEN),
  async fn() {
    const f = await readGoldenFeatures(DIR);
    const expected = await golden("hist");
    const got = histMap(f, 9);
    assert.deepEqual([got.height, got.width], expected.shape);
    const err = relativeMaxError(got.data, expected.data);
    assert.ok(err <= 1e-5, `relative error ${err}`);
  },
});
