/**
 * The design space on the GPU from GPU features (GpuFca.run with a design): every statistic and
 * reference against the CPU specification (anomalyMapCpu of the scaled features, then
 * resizeBilinear), and one readback submission per run. Sizes are tiny because CI runs WebGPU
 * on llvmpipe; ignored when there is no adapter.
 */
import assert from "node:assert/strict";
import { countSubmitsAndMaps, gpuTest, SHARED_GPU } from "./_gpu.ts";
import { DEFAULT_GPU_DESIGN, type GpuDesign, GpuFca, isGpuDesign } from "../src/gpu/fca_gpu.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { anomalyMapCpu, randomReference } from "../src/fca/stats/mod.ts";
import { randomReferenceOrigin } from "../src/fca/references.ts";
import { resizeBilinear } from "../src/fca/upsample.ts";
import type { FcaParams, FeatureMap } from "../src/fca/types.ts";
import { relativeMaxError, rng } from "./_shared.ts";

let fcaPromise: Promise<GpuFca> | null = null;
/** One compiled GpuFca for the whole file (pipelines compile once per device). */
function gpu(): Promise<GpuFca> {
  fcaPromise ??= GpuFca.create(SHARED_GPU!.device);
  return fcaPromise;
}

/** Every design the GPU runs: fca and sww with both references, hist and moments. */
const DESIGNS: GpuDesign[] = [
  { stats: "fca", reference: "median", seed: 0 },
  { stats: "fca", reference: "random", seed: 5 },
  { stats: "sww", reference: "median", seed: 0 },
  { stats: "sww", reference: "random", seed: 11 },
  { stats: "hist", reference: "median", seed: 0 },
  { stats: "moments", reference: "median", seed: 0 },
];

function name(d: GpuDesign): string {
  return `${d.stats}+${d.reference}`;
}

/** Raw backbone-like features: ties, exact zeros, some negatives, per-channel offsets. */
function rawFeatures(seed: number, channels: number, height: number, width: number): FeatureMap {
  const r = rng(seed);
  const data = new Float32Array(channels * height * width);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / (height * width));
    if (r() < 0.4) continue;
    const v = r() < 0.5 ? Math.floor(r() * 6) / 3 : r() * 2;
    data[i] = (r() < 0.2 ? -v : v) * (1 + c) + c;
  }
  return { channels, height, width, data };
}

function upload(device: GPUDevice, f: FeatureMap): GPUBuffer {
  const buffer = device.createBuffer({
    size: f.data.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, new Float32Array(f.data));
  return buffer;
}

function lut(): Uint8Array {
  const out = new Uint8Array(1024);
  for (let i = 0; i < 256; i++) out.set([i, 255 - i, (3 * i) & 255, 255], 4 * i);
  return out;
}

/** The CPU specification of run(): scale (unless prescaled), anomalyMapCpu, resizeBilinear. */
function cpuRun(
  f: FeatureMap,
  params: FcaParams,
  design: GpuDesign,
  outHeight: number,
  outWidth: number,
  prescaled = false,
) {
  const scaled = prescaled ? f : minMaxScale({ ...f, data: f.data.slice() });
  const small = anomalyMapCpu(scaled, { ...design, params });
  return { small, map: resizeBilinear(small, outHeight, outWidth) };
}

const CASES: [number, number, number, number, number, number][] = [
  // [C, H, W, T, outH, outW]: non-square, fractional and integer scales, T = 3 and 5
  [5, 13, 11, 3, 40, 29],
  [4, 12, 14, 5, 24, 28],
];

for (const design of DESIGNS) {
  gpuTest(`gpu run() ${name(design)} equals the CPU anomalyMapCpu + resizeBilinear`, async () => {
    const fca = await gpu();
    for (const [C, H, W, T, OH, OW] of CASES) {
      const f = rawFeatures(C * H + T, C, H, W);
      const params = { patch: T, sigmaP: 3, sigmaS: 1 };
      const want = cpuRun(f, params, design, OH, OW);
      const buffer = upload(fca.device, f);
      const out = await fca.run(
        { features: buffer, channels: C, height: H, width: W },
        params,
        { height: OH, width: OW, colormapLut: lut(), keepFeatureMap: true },
        design,
      );
      buffer.destroy();
      const where = `${name(design)} ${C}x${H}x${W} T=${T}`;
      const err = relativeMaxError(out.map, want.map.data);
      assert.ok(err <= 1e-5, `${where}: map relative error ${err}`);
      const errSmall = relativeMaxError(out.featureMap!, want.small.data);
      assert.ok(errSmall <= 1e-5, `${where}: feature map relative error ${errSmall}`);
      assert.equal(out.score, Math.max(...out.map));
      assert.deepEqual([out.lo, out.hi], [Math.min(...out.map), out.score]);
      assert.equal(out.heatmap.length, 4 * OH * OW);
    }
  });
}

gpuTest("gpu run() designs on prescaled (hand-crafted) features skip the scaling", async () => {
  const fca = await gpu();
  const [C, H, W, T, OH, OW] = [3, 11, 12, 3, 22, 24];
  const f = rawFeatures(77, C, H, W); // not in [0, 1]: scaling would change every statistic
  const buffer = upload(fca.device, f);
  const params = { patch: T, sigmaP: 2, sigmaS: 0 };
  for (const design of DESIGNS) {
    const want = cpuRun(f, params, design, OH, OW, true);
    const out = await fca.run(
      { features: buffer, channels: C, height: H, width: W, prescaled: true },
      params,
      { height: OH, width: OW, colormapLut: lut() },
      design,
    );
    const err = relativeMaxError(out.map, want.map.data);
    assert.ok(err <= 1e-5, `${name(design)}: relative error ${err}`);
  }
  buffer.destroy();
});

gpuTest("gpu run() without a design is fca + median, bit for bit", async () => {
  const fca = await gpu();
  const [C, H, W] = [4, 10, 9];
  const f = rawFeatures(3, C, H, W);
  const buffer = upload(fca.device, f);
  const input = { features: buffer, channels: C, height: H, width: W };
  const params = { patch: 3, sigmaP: 3, sigmaS: 1 };
  const spec = { height: 30, width: 27, colormapLut: lut(), keepFeatureMap: true };
  const plain = await fca.run(input, params, spec);
  const explicit = await fca.run(input, params, spec, { ...DEFAULT_GPU_DESIGN });
  // A different design in between must not leave state behind.
  await fca.run(input, params, spec, { stats: "hist", reference: "median", seed: 0 });
  const again = await fca.run(input, params, spec);
  for (const other of [explicit, again]) {
    assert.deepEqual(other.map, plain.map);
    assert.deepEqual(other.featureMap, plain.featureMap);
    assert.deepEqual(other.heatmap, plain.heatmap);
  }
  buffer.destroy();
});

gpuTest("gpu random reference equals randomReference (seeds, origins at the edges)", async () => {
  const fca = await gpu();
  for (const [C, H, W, T] of [[3, 9, 11, 3], [2, 7, 5, 5], [2, 5, 5, 5], [3, 10, 8, 1]]) {
    const f = rawFeatures(H * W + T, C, H, W);
    for (const seed of [0, 1, 2, 99, -4]) {
      const got = await fca.randomReference(f, T, seed);
      assert.deepEqual(got, randomReference(f, T, seed), `${C}x${H}x${W} T=${T} seed ${seed}`);
      const [y0, x0] = randomReferenceOrigin(H, W, T, seed);
      assert.ok(y0 >= 0 && x0 >= 0 && y0 + T <= H && x0 + T <= W);
    }
  }
  await assert.rejects(fca.randomReference(rawFeatures(1, 2, 4, 6), 5, 0), /smaller than one 5x5/);
});

gpuTest("gpu run(): exactly one readback submission per run, for every design", async () => {
  const fca = await gpu();
  const device = fca.device;
  const [C, H, W, T, OH, OW] = [4, 11, 10, 3, 22, 20];
  const f = rawFeatures(21, C, H, W);
  const buffer = upload(device, f);
  const image = device.createBuffer({
    size: 3 * OH * OW * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  const spec = {
    height: OH,
    width: OW,
    colormapLut: lut(),
    keepFeatureMap: true,
    overlay: { image, alpha: 0.5 },
  };
  const params = { patch: T, sigmaP: 3, sigmaS: 1 };
  // Compile every design's kernels first (compilation submits nothing, but keep it apart).
  for (const design of DESIGNS) {
    await fca.run({ features: buffer, channels: C, height: H, width: W }, params, spec, design);
  }
  for (const design of DESIGNS) {
    const [out, { submits, maps }] = await countSubmitsAndMaps(() =>
      fca.run({ features: buffer, channels: C, height: H, width: W }, params, spec, design)
    );
    assert.equal(submits, 1, `${name(design)}: ${submits} submissions`);
    // map, heatmap, min/max, feature map, overlay: all mapped after that one submission
    assert.equal(maps.length, 5, `${name(design)}: ${maps.length} buffers mapped`);
    assert.ok(maps.every((n) => n === 1), `${name(design)}: a readback before the last submit`);
    assert.equal(out.overlayRgb!.length, 3 * OH * OW);
  }
  buffer.destroy();
  image.destroy();
});

gpuTest("gpu run(): designs the GPU does not run are one-line errors", async () => {
  const fca = await gpu();
  const f = rawFeatures(8, 2, 18, 18);
  const buffer = upload(fca.device, f);
  const input = { features: buffer, channels: 2, height: 18, width: 18 };
  const spec = { height: 18, width: 18, colormapLut: lut() };
  const params = { patch: 3, sigmaP: 3, sigmaS: 1 };
  await assert.rejects(
    fca.run(input, params, spec, { stats: "hist", reference: "random", seed: 0 }),
    /--stats hist compares with global statistics and does not take --reference random/,
  );
  await assert.rejects(
    fca.run(input, params, spec, { stats: "aota" as "fca", reference: "median", seed: 0 }),
    /runs --stats fca, sww, hist, moments, got 'aota': use --backend cpu/,
  );
  await assert.rejects(
    fca.run(input, params, spec, { stats: "sww", reference: "knn" as "median", seed: 0 }),
    /runs --reference median, random, got 'knn'/,
  );
  await assert.rejects(
    fca.run(input, { ...params, patch: 17 }, spec, { stats: "sww", reference: "median", seed: 0 }),
    /patch up to 15/,
  );
  // moments does not rank windows: a patch above the rank kernel's limit is fine.
  const design = { stats: "moments", reference: "median", seed: 0 } as const;
  const big = { patch: 17, sigmaP: 3, sigmaS: 1 };
  const out = await fca.run(input, big, spec, design);
  const want = cpuRun(f, big, design, 18, 18);
  assert.ok(relativeMaxError(out.map, want.map.data) <= 1e-5);
  buffer.destroy();
});

Deno.test("isGpuDesign: fca and sww with median or random, hist and moments with median", () => {
  for (const d of DESIGNS) assert.ok(isGpuDesign(d), name(d));
  for (
    const [stats, reference] of [
      ["hist", "random"],
      ["moments", "random"],
      ["fca", "knn"],
      ["aota", "median"],
      ["aota", "knn"],
    ]
  ) assert.ok(!isGpuDesign({ stats, reference, seed: 0 }), `${stats}+${reference}`);
});
