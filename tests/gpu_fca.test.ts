/**
 * The WebGPU FCA stages against the CPU specification (src/fca/*) and the golden vectors. Sizes
 * are tiny because CI runs WebGPU on llvmpipe; ignored when there is no adapter.
 */
import assert from "node:assert/strict";
import { gpuTest, SHARED_GPU } from "./_gpu.ts";
import { GpuFca } from "../src/gpu/fca_gpu.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { medianReference } from "../src/fca/median_reference.ts";
import { fcaMapReference } from "../src/fca/rank_matching.ts";
import { resizeBilinear } from "../src/fca/upsample.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../src/fca/types.ts";
import { readNpy } from "../src/io/npy.ts";
import {
  GOLDEN_DIR,
  HAVE_GOLDEN,
  readGoldenFeatures,
  relativeMaxError,
  rng,
  skipWithoutShared,
} from "./_shared.ts";

let fcaPromise: Promise<GpuFca> | null = null;
/** One device and one compiled GpuFca for the whole file (pipelines compile once). */
function gpu(): Promise<GpuFca> {
  fcaPromise ??= GpuFca.create(SHARED_GPU!.device);
  return fcaPromise;
}

/**
 * Random features full of ties: about half exact zeros, the rest drawn from a few levels (so
 * values repeat inside windows), optionally with negative levels.
 */
function tiedFeatures(
  seed: number,
  channels: number,
  height: number,
  width: number,
  negative = false,
): FeatureMap {
  const r = rng(seed);
  const data = new Float32Array(channels * height * width);
  for (let i = 0; i < data.length; i++) {
    const u = r();
    if (u < 0.5) continue;
    const level = Math.floor(r() * 6) / 6 + (r() < 0.5 ? 0 : r());
    data[i] = negative && level > 0 && r() < 0.3 ? -level : level;
  }
  return { channels, height, width, data };
}

function clone(f: FeatureMap): FeatureMap {
  return { ...f, data: f.data.slice() };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** A LUT whose red byte is the entry index, so the chosen index can be read off each pixel. */
function indexLut(): Uint8Array {
  const lut = new Uint8Array(1024);
  for (let i = 0; i < 256; i++) lut.set([i, (i * 7) & 255, 255 - i, 255], 4 * i);
  return lut;
}

/**
 * Compare a GPU heatmap with the CPU application of the colormap convention of
 * kernels/colormap.wgsl; the index may differ by one only where t·255 + 0.5 is within 1e-3 of
 * an integer (a rounding boundary).
 */
function assertHeatmap(rgba: Uint8Array, map: ArrayLike<number>, lo: number, hi: number): void {
  const lut = indexLut();
  assert.equal(rgba.length, map.length * 4);
  for (let p = 0; p < map.length; p++) {
    let x = 0.5;
    if (hi > lo) {
      const t = Math.min(
        1,
        Math.max(0, Math.fround(Math.fround(map[p] - lo) / Math.fround(hi - lo))),
      );
      x = t * 255 + 0.5;
    }
    const idx = Math.min(255, Math.floor(x));
    const got = rgba[4 * p];
    const nearBoundary = Math.abs(x - Math.round(x)) < 1e-3;
    assert.ok(
      got === idx || (nearBoundary && Math.abs(got - idx) === 1),
      `pixel ${p}: index ${got}, expected ${idx}`,
    );
    assert.deepEqual([...rgba.subarray(4 * p, 4 * p + 4)], [...lut.subarray(4 * got, 4 * got + 4)]);
  }
}

function cpuFca(f: FeatureMap, params: FcaParams): ScalarMap {
  return fcaMapReference(f, medianReference(f, params.patch), params);
}

gpuTest("gpu min-max scaling equals minMaxScale and names a NaN/Inf channel", async () => {
  const fca = await gpu();
  const f = tiedFeatures(1, 8, 23, 19, true);
  for (let i = 0; i < f.data.length; i += 17) f.data[i] = 3 + i / 100; // distinct maxima
  const got = await fca.scale(f);
  const want = minMaxScale(clone(f)).data;
  assert.ok(maxAbsDiff(got, want) <= 1e-6, `scale error ${maxAbsDiff(got, want)}`);
  const bad = clone(f);
  bad.data[3 * 23 * 19 + 40] = NaN;
  bad.data[5 * 23 * 19 + 2] = Infinity;
  await assert.rejects(fca.scale(bad), /channel 3 contains NaN or Inf/);
  const inf = clone(f);
  inf.data[6 * 23 * 19 + 7] = -Infinity;
  await assert.rejects(fca.scale(inf), /channel 6 contains NaN or Inf/);
});

gpuTest("gpu median reference equals the CPU reference exactly (ties, zeros, T=1..9)", async () => {
  const fca = await gpu();
  for (const [T, h, w] of [[1, 4, 3], [3, 23, 19], [5, 23, 19], [7, 15, 22], [9, 23, 19]]) {
    const f = tiedFeatures(10 + T, 8, h, w, T === 5);
    const got = await fca.medianReference(f, T), want = medianReference(f, T);
    assert.equal(got.length, want.length);
    assert.ok(got.every((v, i) => v === want[i]), `T=${T}`); // === : -0 and 0 are the same value
  }
});

gpuTest(
  "gpu FCA map equals the CPU reference on tie-heavy inputs (T=1..15, σs on/off)",
  async () => {
    const fca = await gpu();
    const cases: [number, number, number, number, boolean][] = [
      // [T, C, H, W, negatives]
      [3, 8, 23, 19, false],
      [5, 8, 19, 23, true],
      [9, 8, 23, 19, false],
      [1, 3, 5, 4, false],
      [7, 4, 11, 9, false],
      [11, 3, 12, 13, true],
      [15, 2, 15, 16, false],
    ];
    for (const [T, C, H, W, neg] of cases) {
      const f = tiedFeatures(100 + T, C, H, W, neg);
      for (const sigmaS of [1, 0]) {
        const params = { patch: T, sigmaP: 3, sigmaS };
        const want = cpuFca(f, params);
        const got = await fca.fcaMap(f, params);
        const err = relativeMaxError(got.data, want.data);
        assert.ok(err <= 1e-5, `T=${T} σs=${sigmaS}: relative error ${err}`);
      }
    }
  },
);

gpuTest("gpu FCA with the scaling kernel equals CPU scale + FCA (raw features)", async () => {
  const fca = await gpu();
  const f = tiedFeatures(7, 8, 21, 17, true);
  for (let i = 0; i < f.data.length; i++) f.data[i] = f.data[i] * 4 + 0.5; // not yet in [0, 1]
  const params = { patch: 5, sigmaP: 3, sigmaS: 1 };
  const want = cpuFca(minMaxScale(clone(f)), params);
  const got = await fca.fcaMap(f, params, { scale: true });
  const err = relativeMaxError(got.data, want.data);
  assert.ok(err <= 1e-5, `relative error ${err}`);
});

for (const T of [3, 5, 9]) {
  for (const suffix of ["", "_square23"]) {
    const dir = `fca_random_T${T}${suffix}`;
    gpuTest(`gpu FCA equals golden ${dir} (reference, σs=1, σs=0)`, async () => {
      const fca = await gpu();
      const f = await readGoldenFeatures(dir);
      const ref = await fca.medianReference(f, T);
      assert.deepEqual(ref, (await readNpy(`${GOLDEN_DIR}/${dir}/reference.npy`)).data);
      for (const [sigmaS, file] of [[1, "fca_stable"], [0, "fca_nosmooth_stable"]] as const) {
        const golden = await readNpy(`${GOLDEN_DIR}/${dir}/${file}.npy`);
        const got = await fca.fcaMap(f, { patch: T, sigmaP: 3, sigmaS });
        assert.deepEqual([got.height, got.width], golden.shape);
        const err = relativeMaxError(got.data, golden.data);
        assert.ok(err <= 1e-5, `${file}: relative error ${err}`);
      }
    }, skipWithoutShared(HAVE_GOLDEN));
  }
}

/**
 * skimage's order-1 resize written out here, independently of src/fca/upsample.ts (whose taps the
 * kernel also uses): half-pixel centres, source (o + 0.5)·in/out − 0.5, mirrored borders
 * (…c b | a b c …), in float64.
 */
function oracleUpsample(map: ScalarMap, outH: number, outW: number): Float64Array {
  const mirror = (i: number, n: number): number => {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    const m = ((i % period) + period) % period;
    return m < n ? m : period - m;
  };
  const tap = (o: number, inSize: number, outSize: number) => {
    const src = ((o + 0.5) * inSize) / outSize - 0.5, f = Math.floor(src);
    return [mirror(f, inSize), mirror(f + 1, inSize), src - f];
  };
  const out = new Float64Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const [y0, y1, wy] = tap(y, map.height, outH);
    for (let x = 0; x < outW; x++) {
      const [x0, x1, wx] = tap(x, map.width, outW);
      const v = (yy: number, xx: number) => map.data[yy * map.width + xx];
      out[y * outW + x] = (1 - wy) * ((1 - wx) * v(y0, x0) + wx * v(y0, x1)) +
        wy * ((1 - wx) * v(y1, x0) + wx * v(y1, x1));
    }
  }
  return out;
}

gpuTest(
  "gpu upsampling equals an independent skimage resize (integer and fractional scales)",
  async () => {
    const fca = await gpu();
    const r = rng(5);
    const map = { height: 7, width: 5, data: Float32Array.from({ length: 35 }, () => r()) };
    // Hand-checked taps first: 2 → 4 samples at −0.25, 0.25, 0.75, 1.25 (mirrored: 0.25, 0.75).
    const line = await fca.upsample({ height: 1, width: 2, data: Float32Array.of(0, 1) }, 1, 4);
    assert.ok(maxAbsDiff(line.data, [0.25, 0.25, 0.75, 0.75]) <= 1e-6, `${[...line.data]}`);
    for (const [oh, ow] of [[56, 40], [23, 41], [7, 5], [9, 13], [3, 2]]) {
      const got = await fca.upsample(map, oh, ow);
      assert.ok(maxAbsDiff(got.data, oracleUpsample(map, oh, ow)) <= 1e-6, `${oh}x${ow}`);
      // And the CPU path (the pipeline's other backend) agrees.
      assert.ok(maxAbsDiff(got.data, resizeBilinear(map, oh, ow).data) <= 1e-6, `${oh}x${ow} cpu`);
    }
  },
);

gpuTest("gpu upsampling of the golden FCA maps equals fca_upsampled_stable", async () => {
  const fca = await gpu();
  // Non-square with a fractional scale (magnetic tile: 47x31 → 373x248) and an integer one.
  for (const set of ["magnetic_tile", "crackforest"]) {
    const dir = `${GOLDEN_DIR}/pipeline_${set}`;
    const small = await readNpy(`${dir}/fca_stable.npy`);
    const big = await readNpy(`${dir}/fca_upsampled_stable.npy`);
    const got = await fca.upsample(
      { height: small.shape[0], width: small.shape[1], data: small.data },
      big.shape[0],
      big.shape[1],
    );
    const err = relativeMaxError(got.data, big.data);
    assert.ok(err <= 1e-5, `${set}: relative error ${err}`);
  }
}, skipWithoutShared(HAVE_GOLDEN));

gpuTest("gpu colormap equals the CPU application of the LUT (own and fixed range)", async () => {
  const fca = await gpu();
  const r = rng(9);
  const map = {
    height: 37,
    width: 29,
    data: Float32Array.from({ length: 37 * 29 }, () => r() - 0.3),
  };
  map.data[100] = -0.75; // unique minimum
  map.data[200] = 1.25; // unique maximum
  const own = await fca.colormap(map, indexLut());
  assert.deepEqual([own.lo, own.hi], [-0.75, 1.25]);
  assertHeatmap(own.rgba, map.data, own.lo, own.hi);
  const fixed = await fca.colormap(map, indexLut(), { lo: 0.1, hi: 0.6 });
  assertHeatmap(fixed.rgba, map.data, 0.1, 0.6);
  const flat = await fca.colormap(
    { height: 3, width: 3, data: new Float32Array(9).fill(2) },
    indexLut(),
  );
  assertHeatmap(flat.rgba, new Float32Array(9).fill(2), 2, 2);
});

gpuTest(
  "gpu run(): raw GPU features to upsampled map, score and heatmap, across sizes",
  async () => {
    const fca = await gpu();
    const device = fca.device;
    const cases: [number, number, number, number, number, number][] = [
      // [C, H, W, T, outH, outW]
      [8, 23, 19, 5, 61, 47],
      [6, 12, 14, 3, 96, 112],
      [8, 23, 19, 5, 61, 47], // back to the first size: a fresh plan, same results
    ];
    for (const [C, H, W, T, OH, OW] of cases) {
      const f = tiedFeatures(C * H + T, C, H, W);
      for (let i = 0; i < f.data.length; i++) f.data[i] = 2 * f.data[i] - 0.25;
      const buffer = device.createBuffer({
        size: f.data.byteLength,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(buffer, 0, new Float32Array(f.data));
      const params = { patch: T, sigmaP: 3, sigmaS: 1 };
      const small = cpuFca(minMaxScale(clone(f)), params);
      const want = resizeBilinear(small, OH, OW);
      const out = await fca.run({ features: buffer, channels: C, height: H, width: W }, params, {
        height: OH,
        width: OW,
        colormapLut: indexLut(),
        keepFeatureMap: true,
      });
      buffer.destroy();
      const err = relativeMaxError(out.map, want.data);
      assert.ok(err <= 1e-5, `${C}x${H}x${W} T=${T}: relative error ${err}`);
      assert.ok(relativeMaxError(out.featureMap!, small.data) <= 1e-5);
      assert.equal(out.score, Math.max(...out.map));
      assert.equal(out.lo, Math.min(...out.map));
      assert.equal(out.hi, out.score);
      assertHeatmap(out.heatmap, out.map, out.lo, out.hi);
    }
  },
);

gpuTest("gpu run(): the overlay equals the CPU overlay() but at float rounding ties", async () => {
  const fca = await gpu();
  const device = fca.device;
  const [C, H, W, OH, OW] = [4, 10, 9, 37, 29]; // 3·37·29 is not a multiple of 4: a partial word
  const f = tiedFeatures(11, C, H, W);
  const features = device.createBuffer({
    size: f.data.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(features, 0, new Float32Array(f.data));
  const r = rng(12);
  // Values a little outside [0, 1] exercise the clamp.
  const image = {
    width: OW,
    height: OH,
    data: new Float32Array(3 * OH * OW).map(() => 1.1 * r() - 0.05),
  };
  const imageBuffer = device.createBuffer({
    size: image.data.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(imageBuffer, 0, image.data);
  const params = { patch: 3, sigmaP: 3, sigmaS: 1 };
  const spec = { height: OH, width: OW, colormapLut: indexLut() };
  for (const alpha of [0.5, 0.3]) {
    const out = await fca.run(
      { features, channels: C, height: H, width: W },
      params,
      { ...spec, overlay: { image: imageBuffer, alpha } },
    );
    const got = out.overlayRgb!;
    assert.equal(got.length, 3 * OH * OW);
    const n = OH * OW;
    let ties = 0;
    for (let p = 0; p < n; p++) {
      const a = (alpha * out.heatmap[4 * p + 3]) / 255;
      for (let c = 0; c < 3; c++) {
        const base = Math.min(Math.max(image.data[c * n + p], 0), 1) * 255;
        const x = (1 - a) * base + a * out.heatmap[4 * p + c];
        const want = Math.round(x);
        const tie = Math.abs(x - Math.floor(x) - 0.5) < 1e-3;
        if (tie) ties++;
        assert.ok(
          got[3 * p + c] === want || (tie && Math.abs(got[3 * p + c] - want) === 1),
          `alpha ${alpha}, pixel ${p} channel ${c}: ${got[3 * p + c]}, expected ${want}`,
        );
      }
    }
    // Clamped pixels blend 127.5 + h/2 with alpha 0.5: exact ties, the rest are rare.
    assert.ok(ties < (3 * n) / 10, `${ties} of ${3 * n} bytes near rounding ties`);
  }
  const small = { ...spec, overlay: { image: features, alpha: 0.5 } };
  await assert.rejects(
    fca.run({ features, channels: C, height: H, width: W }, params, small),
    /overlay image holds \d+ bytes, fewer than 3x37x29/,
  );
  features.destroy();
  imageBuffer.destroy();
});

gpuTest("gpu run(): prescaled input, fixed range, NaN rejection, limits", async () => {
  const fca = await gpu();
  const device = fca.device;
  const f = tiedFeatures(3, 4, 10, 9);
  const buffer = device.createBuffer({
    size: f.data.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, new Float32Array(f.data));
  const params = { patch: 3, sigmaP: 3, sigmaS: 0 };
  const spec = { height: 20, width: 18, colormapLut: indexLut(), range: { lo: 0, hi: 0.05 } };
  const input = { features: buffer, channels: 4, height: 10, width: 9, prescaled: true };
  const out = await fca.run(input, params, spec);
  const want = resizeBilinear(cpuFca(f, params), 20, 18);
  assert.ok(relativeMaxError(out.map, want.data) <= 1e-5);
  assert.deepEqual([out.lo, out.hi], [0, 0.05]);
  assertHeatmap(out.heatmap, out.map, 0, 0.05);
  device.queue.writeBuffer(buffer, 4 * (2 * 90 + 11), new Float32Array([NaN]));
  await assert.rejects(
    fca.run({ ...input, prescaled: false }, params, spec),
    /channel 2 contains NaN/,
  );
  await assert.rejects(fca.run(input, { ...params, patch: 17 }, spec), /patch up to 15/);
  await assert.rejects(fca.run(input, { ...params, patch: 11 }, spec), /smaller than one 11x11/);
  buffer.destroy();
});

gpuTest("gpu calls issued together run one at a time; dispose() then rebuild", async () => {
  const fca = await gpu();
  const a = tiedFeatures(4, 2, 6, 6), b = tiedFeatures(5, 3, 9, 7);
  // Different sizes: each call replaces the other's plan, so they must not interleave.
  const [ra, rb, rc] = await Promise.all([
    fca.medianReference(a, 3),
    fca.medianReference(b, 3),
    fca.medianReference(a, 7).catch((e: Error) => e),
  ]);
  assert.deepEqual(ra, medianReference(a, 3));
  assert.deepEqual(rb, medianReference(b, 3));
  assert.match(String(rc), /smaller than one 7x7 patch/);
  fca.dispose();
  assert.deepEqual(await fca.medianReference(b, 3), medianReference(b, 3));
});
