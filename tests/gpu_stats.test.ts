/**
 * The WebGPU sww, hist and moments statistics against the CPU specification (anomalyMapCpu,
 * src/fca/stats/) and the golden vectors. Sizes are tiny because CI runs WebGPU on llvmpipe;
 * ignored when there is no adapter.
 */
import assert from "node:assert/strict";
import { gpuTest, SHARED_GPU } from "./_gpu.ts";
import { GpuStats } from "../src/gpu/stats_gpu.ts";
import { medianReference } from "../src/fca/median_reference.ts";
import { randomReference } from "../src/fca/references.ts";
import { anomalyMapCpu, swwMap } from "../src/fca/stats/mod.ts";
import type { DesignOptions } from "../src/fca/stats/mod.ts";
import type { FeatureMap } from "../src/fca/types.ts";
import { readNpy } from "../src/io/npy.ts";
import {
  GOLDEN_DIR,
  HAVE_GOLDEN,
  readGoldenFeatures,
  relativeMaxError,
  rng,
  skipWithoutShared,
} from "./_shared.ts";

let statsPromise: Promise<GpuStats> | null = null;
/** One device and one compiled GpuStats for the whole file (pipelines compile once). */
function gpu(): Promise<GpuStats> {
  statsPromise ??= GpuStats.create(SHARED_GPU!.device);
  return statsPromise;
}

/**
 * Features in [0, 1] full of ties: about half exact zeros, the rest drawn from a few levels
 * (so values repeat inside windows and land on shared histogram bins), some continuous.
 */
function tiedFeatures(seed: number, channels: number, height: number, width: number): FeatureMap {
  const r = rng(seed);
  const data = new Float32Array(channels * height * width);
  for (let i = 0; i < data.length; i++) {
    if (r() < 0.5) continue;
    data[i] = r() < 0.5 ? Math.floor(r() * 6) / 6 : Math.fround(r());
  }
  return { channels, height, width, data };
}

function design(
  stats: DesignOptions["stats"],
  T: number,
  reference: "median" | "random" = "median",
) {
  return {
    stats,
    reference,
    params: { patch: T, sigmaP: 3, sigmaS: 1 },
    seed: 7,
  } satisfies DesignOptions;
}

const CASES: [number, number, number, number][] = [
  // [T, C, H, W]: square and non-square, T = 3, 5, 9
  [3, 6, 13, 11],
  [5, 5, 12, 12],
  [9, 4, 11, 14],
  [9, 3, 10, 10],
];

gpuTest("gpu sww equals the CPU (stable ties) with median and random references", async () => {
  const gs = await gpu();
  for (const [T, C, H, W] of CASES) {
    const f = tiedFeatures(10 + T + H, C, H, W);
    for (const kind of ["median", "random"] as const) {
      const opts = design("sww", T, kind);
      const want = anomalyMapCpu(f, opts);
      const reference = kind === "median" ? medianReference(f, T) : randomReference(f, T, 7);
      const got = await gs.map(f, { stats: "sww", params: opts.params, reference });
      assert.deepEqual([got.height, got.width], [H, W]);
      const err = relativeMaxError(got.data, want.data);
      assert.ok(err <= 1e-5, `T=${T} ${H}x${W} ${kind}: relative error ${err}`);
    }
  }
});

gpuTest("gpu sww uses σp for its weights", async () => {
  const gs = await gpu();
  const f = tiedFeatures(3, 4, 9, 12);
  const reference = medianReference(f, 5);
  const params = { patch: 5, sigmaP: 0.7, sigmaS: 0 };
  const want = swwMap(f, reference, 5, 0.7);
  const got = await gs.map(f, { stats: "sww", params, reference });
  assert.ok(relativeMaxError(got.data, want.data) <= 1e-5);
  const other = swwMap(f, reference, 5, 3);
  assert.ok(relativeMaxError(got.data, other.data) > 1e-3, "σp must change the map");
});

gpuTest("gpu sww rejects a missing or mis-sized reference", async () => {
  const gs = await gpu();
  const f = tiedFeatures(4, 2, 6, 6);
  const params = { patch: 3, sigmaP: 3, sigmaS: 1 };
  await assert.rejects(gs.map(f, { stats: "sww", params }), /needs a reference/);
  await assert.rejects(
    gs.map(f, { stats: "sww", params, reference: new Float32Array(5) }),
    /reference has 5 values, expected 2x9/,
  );
});

for (const stats of ["hist", "moments"] as const) {
  gpuTest(`gpu ${stats} equals the CPU (ties, zeros, T=3,5,9, non-square)`, async () => {
    const gs = await gpu();
    for (const [T, C, H, W] of CASES) {
      const f = tiedFeatures(20 + T + W, C, H, W);
      const opts = design(stats, T);
      const want = anomalyMapCpu(f, opts);
      const got = await gs.map(f, { stats, params: opts.params });
      assert.deepEqual([got.height, got.width], [H, W]);
      const err = relativeMaxError(got.data, want.data);
      assert.ok(err <= 1e-5, `T=${T} ${H}x${W}: relative error ${err}`);
    }
  });
}

gpuTest("gpu hist sizes the bins by the largest index present (narrow channels)", async () => {
  const gs = await gpu();
  // Channels spanning only 1e-8 re-scale to at most 0.5, so no value reaches bin 5: nb = 5.
  const f = tiedFeatures(5, 3, 9, 8);
  for (let i = 0; i < f.data.length; i++) f.data[i] = f.data[i] > 0.5 ? 1e-8 : 0;
  const want = anomalyMapCpu(f, design("hist", 3));
  const got = await gs.map(f, { stats: "hist", params: design("hist", 3).params });
  const err = relativeMaxError(got.data, want.data);
  assert.ok(err <= 1e-5, `relative error ${err}`);
});

const DIR = "sww_random_T9";
for (const stats of ["moments", "hist"] as const) {
  gpuTest(`gpu ${stats} equals golden ${DIR}/${stats}.npy`, async () => {
    const gs = await gpu();
    const f = await readGoldenFeatures(DIR);
    const golden = await readNpy(`${GOLDEN_DIR}/${DIR}/${stats}.npy`);
    const got = await gs.map(f, { stats, params: { patch: 9, sigmaP: 3, sigmaS: 1 } });
    assert.deepEqual([got.height, got.width], golden.shape);
    const err = relativeMaxError(got.data, golden.data);
    assert.ok(err <= 1e-5, `relative error ${err}`);
  }, skipWithoutShared(HAVE_GOLDEN));
}

// sww.npy used torch's unstable tie order, so the golden features are compared with the CPU's
// stable-tie SWW (tests/stats_golden.test.ts ties that to sww.npy in the interior).
gpuTest(`gpu sww on the golden ${DIR} features equals the CPU stable-tie sww`, async () => {
  const gs = await gpu();
  const f = await readGoldenFeatures(DIR);
  const reference = medianReference(f, 9);
  const want = swwMap(f, reference, 9, 3, "stable");
  const got = await gs.map(f, {
    stats: "sww",
    params: { patch: 9, sigmaP: 3, sigmaS: 1 },
    reference,
  });
  const err = relativeMaxError(got.data, want.data);
  assert.ok(err <= 1e-5, `relative error ${err}`);
}, skipWithoutShared(HAVE_GOLDEN));
