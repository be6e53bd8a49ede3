import assert from "node:assert/strict";
import { CpuFca } from "../src/fca/fast/mod.ts";
import { medianReference } from "../src/fca/median_reference.ts";
import { fcaMapReference } from "../src/fca/rank_matching.ts";
import type { FcaParams, FeatureMap } from "../src/fca/types.ts";
import { readNpy } from "../src/io/npy.ts";
import {
  GOLDEN_DIR,
  HAVE_GOLDEN,
  readGoldenFeatures,
  relativeMaxError,
  rng,
  skipWithoutShared,
} from "./_shared.ts";

/** Run `fn` with a fresh engine and always dispose it (workers must not outlive the test). */
async function withEngine<T>(
  opts: Parameters<typeof CpuFca.create>[0],
  fn: (e: CpuFca) => Promise<T>,
): Promise<T> {
  const engine = await CpuFca.create(opts);
  try {
    return await fn(engine);
  } finally {
    engine.dispose();
  }
}

const RANDOM_SETS = [3, 5, 9].flatMap((t) => [`fca_random_T${t}`, `fca_random_T${t}_square23`]);

for (const dir of RANDOM_SETS) {
  const T = Number(/T(\d)/.exec(dir)![1]);
  Deno.test({
    name: `fast FCA equals golden ${dir} and the specification (with and without sigma_s)`,
    ignore: skipWithoutShared(HAVE_GOLDEN),
    async fn() {
      const f = await readGoldenFeatures(dir);
      const golden = (name: string) => readNpy(`${GOLDEN_DIR}/${dir}/${name}.npy`);
      await withEngine({ threads: 2 }, async (e) => {
        const ref = await e.medianReference(f, T);
        assert.deepEqual(ref, (await golden("reference")).data);
        for (const [sigmaS, name] of [[1, "fca_stable"], [0, "fca_nosmooth_stable"]] as const) {
          const params = { patch: T, sigmaP: 3, sigmaS };
          const map = await e.fcaMap(f, params);
          const g = await golden(name);
          assert.deepEqual([map.height, map.width], g.shape);
          assert.ok(relativeMaxError(map.data, g.data) <= 1e-5, `${name}`);
          assert.deepEqual(map.data, fcaMapReference(f, ref, params).data);
        }
      });
    },
  });
}

for (const set of ["magnetic_tile", "fabric_stain_hsst", "crackforest"]) {
  Deno.test({
    name: `fast FCA equals golden pipeline_${set} (real features, T=9)`,
    ignore: skipWithoutShared(HAVE_GOLDEN),
    async fn() {
      const dir = `pipeline_${set}`;
      const f = await readGoldenFeatures(dir);
      await withEngine({}, async (e) => {
        const ref = await e.medianReference(f, 9);
        assert.deepEqual(ref, (await readNpy(`${GOLDEN_DIR}/${dir}/reference.npy`)).data);
        const map = await e.fcaMap(f, { patch: 9, sigmaP: 3, sigmaS: 1 });
        const golden = await readNpy(`${GOLDEN_DIR}/${dir}/fca_stable.npy`);
        assert.deepEqual([map.height, map.width], golden.shape);
        assert.ok(relativeMaxError(map.data, golden.data) <= 1e-5);
      });
    },
  });
}

Deno.test({
  name: "fast FCA equals the specification exactly on real (zero-heavy) features",
  ignore: skipWithoutShared(HAVE_GOLDEN),
  async fn() {
    const full = await readGoldenFeatures("pipeline_magnetic_tile");
    const C = 48, { height: H, width: W } = full; // a channel subset keeps the spec quick
    const f = { channels: C, height: H, width: W, data: full.data.slice(0, C * H * W) };
    await withEngine(
      { threads: 2 },
      (e) => assertMatchesSpec(e, f, { patch: 9, sigmaP: 3, sigmaS: 1 }, "real"),
    );
  },
});

/**
 * Random features full of ties: values quantised to `levels` steps (so equal non-zero values are
 * common), a share of exact zeros, one constant channel, and optionally negative values.
 */
function tiedFeatures(C: number, H: number, W: number, seed: number, negative = false): FeatureMap {
  const r = rng(seed), data = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    const levels = 2 + (c % 5), zeros = (c % 3) * 0.3;
    for (let k = 0; k < H * W; k++) {
      const v = r() < zeros ? 0 : Math.floor(r() * levels) / levels;
      data[c * H * W + k] = c === 1 ? 0.5 : negative ? v - 0.4 : v;
    }
  }
  return { channels: C, height: H, width: W, data };
}

/** Fast median reference and FCA map equal the specification exactly. */
async function assertMatchesSpec(e: CpuFca, f: FeatureMap, params: FcaParams, label: string) {
  const spec = medianReference(f, params.patch);
  assert.deepEqual(await e.medianReference(f, params.patch), spec, `${label}: reference`);
  const map = await e.fcaMap(f, params);
  assert.deepEqual(map.data, fcaMapReference(f, spec, params).data, `${label}: map`);
}

Deno.test("fast FCA equals the specification on tied, zero-heavy and constant channels", async () => {
  const cases: [number, number, number, FcaParams][] = [
    [6, 17, 21, { patch: 3, sigmaP: 3, sigmaS: 1 }],
    [6, 20, 13, { patch: 5, sigmaP: 1.5, sigmaS: 0 }],
    [5, 19, 24, { patch: 9, sigmaP: 3, sigmaS: 1 }],
    [4, 14, 16, { patch: 7, sigmaP: 2, sigmaS: 0.5 }],
  ];
  await withEngine({ threads: 2 }, async (e) => {
    for (const [i, [C, H, W, p]] of cases.entries()) {
      await assertMatchesSpec(e, tiedFeatures(C, H, W, 100 + i), p, `case ${i}`);
      await assertMatchesSpec(e, tiedFeatures(C, H, W, 200 + i, true), p, `negative case ${i}`);
    }
  });
});

Deno.test("fast FCA handles T=1, the smallest legal maps and patches beyond the mask path", async () => {
  await withEngine({ threads: 2 }, async (e) => {
    await assertMatchesSpec(
      e,
      tiedFeatures(3, 1, 1, 7),
      { patch: 1, sigmaP: 3, sigmaS: 1 },
      "1x1 T1",
    );
    await assertMatchesSpec(e, tiedFeatures(3, 6, 5, 8), { patch: 1, sigmaP: 3, sigmaS: 0 }, "T1");
    await assertMatchesSpec(
      e,
      tiedFeatures(3, 3, 3, 9),
      { patch: 3, sigmaP: 3, sigmaS: 1 },
      "3x3 T3",
    );
    await assertMatchesSpec(
      e,
      tiedFeatures(3, 3, 4, 10),
      { patch: 3, sigmaP: 1, sigmaS: 0 },
      "3x4 T3",
    );
    await assertMatchesSpec(
      e,
      tiedFeatures(2, 9, 9, 11),
      { patch: 9, sigmaP: 3, sigmaS: 1 },
      "9x9 T9",
    );
    // T = 33 > 31: minima go through the sorted list instead of the bit masks.
    await assertMatchesSpec(
      e,
      tiedFeatures(2, 33, 34, 12),
      { patch: 33, sigmaP: 5, sigmaS: 1 },
      "T33",
    );
  });
});

Deno.test("one thread, two threads, the js kernel and a given reference agree exactly", async () => {
  const f = tiedFeatures(40, 23, 19, 3);
  const params = { patch: 9, sigmaP: 3, sigmaS: 1 };
  const one = await withEngine({ threads: 1 }, (e) => e.fcaMap(f, params));
  const two = await withEngine({ threads: 2 }, (e) => e.fcaMap(f, params));
  const js = await withEngine({ threads: 2, kernel: "js" }, (e) => e.fcaMap(f, params));
  const given = await withEngine({ threads: 1 }, (e) => e.fcaMap(f, params, medianReference(f, 9)));
  assert.deepEqual(two.data, one.data);
  assert.deepEqual(js.data, one.data);
  assert.deepEqual(given.data, one.data);
});

Deno.test("an engine serves calls of different sizes and rejects bad input with one-line errors", async () => {
  await withEngine({ threads: 2 }, async (e) => {
    const small = tiedFeatures(4, 10, 12, 5), big = tiedFeatures(6, 30, 28, 6);
    const p = { patch: 5, sigmaP: 2, sigmaS: 1 };
    const [a, b] = await Promise.all([e.fcaMap(small, p), e.fcaMap(big, p)]);
    assert.deepEqual(a.data, fcaMapReference(small, medianReference(small, 5), p).data);
    assert.deepEqual(b.data, fcaMapReference(big, medianReference(big, 5), p).data);
    await assert.rejects(() => e.fcaMap(small, p, new Float32Array(3)), /reference has 3 values/);
    await assert.rejects(() => e.medianReference(small, 11), /smaller than one 11x11 patch/);
    await assert.rejects(() => e.fcaMap(small, { patch: 4, sigmaP: 1, sigmaS: 0 }), /odd integer/);
  });
});
