import assert from "node:assert/strict";
import { medianReference, tileCounts } from "../src/fca/median_reference.ts";
import { fcaMapReference } from "../src/fca/rank_matching.ts";
import { resizeBilinear } from "../src/fca/upsample.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { gaussian1d, patchWeights, reflectIndex } from "../src/fca/params.ts";
import { readNpy } from "../src/io/npy.ts";
import {
  GOLDEN_DIR,
  HAVE_GOLDEN,
  readGoldenFeatures,
  relativeMaxError,
  skipWithoutShared,
} from "./_shared.ts";

const RANDOM_SETS = [3, 5, 9].flatMap((t) => [`fca_random_T${t}`, `fca_random_T${t}_square23`]);

for (const dir of RANDOM_SETS) {
  const T = Number(/T(\d)/.exec(dir)![1]);
  Deno.test({
    name: `reference FCA equals golden ${dir} (median reference, with and without sigma_s)`,
    ignore: skipWithoutShared(HAVE_GOLDEN),
    async fn() {
      const f = await readGoldenFeatures(dir);
      const ref = medianReference(f, T);
      assert.deepEqual(ref, (await readNpy(`${GOLDEN_DIR}/${dir}/reference.npy`)).data);
      const smooth = fcaMapReference(f, ref, { patch: T, sigmaP: 3, sigmaS: 1 });
      const golden = await readNpy(`${GOLDEN_DIR}/${dir}/fca_stable.npy`);
      assert.deepEqual([smooth.height, smooth.width], golden.shape);
      assert.ok(relativeMaxError(smooth.data, golden.data) <= 1e-5);
      const plain = fcaMapReference(f, ref, { patch: T, sigmaP: 3, sigmaS: 0 });
      const goldenPlain = await readNpy(`${GOLDEN_DIR}/${dir}/fca_nosmooth_stable.npy`);
      assert.ok(relativeMaxError(plain.data, goldenPlain.data) <= 1e-5);
    },
  });
}

Deno.test({
  name: "skimage-style upsampling of the golden map equals fca_upsampled_stable",
  ignore: skipWithoutShared(HAVE_GOLDEN),
  async fn() {
    for (const set of ["magnetic_tile", "fabric_stain_hsst", "crackforest"]) {
      const dir = `${GOLDEN_DIR}/pipeline_${set}`;
      const small = await readNpy(`${dir}/fca_stable.npy`);
      const big = await readNpy(`${dir}/fca_upsampled_stable.npy`);
      const up = resizeBilinear(
        { height: small.shape[0], width: small.shape[1], data: small.data },
        big.shape[0],
        big.shape[1],
      );
      assert.ok(relativeMaxError(up.data, big.data) <= 1e-6, set);
    }
  },
});

Deno.test("reflectIndex mirrors without repeating the edge", () => {
  assert.deepEqual([-3, -2, -1, 0, 1, 2, 3, 4, 5].map((i) => reflectIndex(i, 3)), [
    1,
    2,
    1,
    0,
    1,
    2,
    1,
    0,
    1,
  ]);
  assert.equal(reflectIndex(5, 1), 0);
});

Deno.test("Gaussian kernels match torchvision's values", () => {
  const g = gaussian1d(5, 1);
  [0.05449, 0.2442, 0.40262, 0.2442, 0.05449].forEach((v, i) =>
    assert.ok(Math.abs(g[i] - v) < 1e-5)
  );
  const w = patchWeights(9, 3);
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(Math.abs(w[0] - 0.06297 * 0.06297) < 1e-6);
});

Deno.test("median reference takes the lower median of an even tile count", () => {
  // 1 channel, 1×4 tiles of T=1: values 4, 1, 3, 2 → sorted 1 2 3 4 → lower median 2.
  const ref = medianReference({
    channels: 1,
    height: 1,
    width: 4,
    data: Float32Array.of(4, 1, 3, 2),
  }, 1);
  assert.deepEqual([...ref], [2]);
  assert.throws(() => tileCounts(8, 20, 9), /smaller than one 9x9 patch/);
});

Deno.test("a constant texture has zero anomaly; a single outlier is the hottest pixel", () => {
  const H = 20, W = 20, C = 2;
  const data = new Float32Array(C * H * W).fill(0.5);
  const flat = fcaMapReference(
    { channels: C, height: H, width: W, data },
    new Float32Array(C * 25).fill(0.5),
    {
      patch: 5,
      sigmaP: 3,
      sigmaS: 1,
    },
  );
  assert.ok(flat.data.every((v) => v === 0));
  data[10 * W + 10] = 1;
  data[H * W + 10 * W + 10] = 1;
  const f = minMaxScale({ channels: C, height: H, width: W, data });
  const ref = medianReference(f, 5);
  const m = fcaMapReference(f, ref, { patch: 5, sigmaP: 3, sigmaS: 0 });
  const argmax = m.data.indexOf(Math.max(...m.data));
  assert.equal(argmax, 10 * W + 10);
});
