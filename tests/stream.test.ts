/**
 * The I/O pool and the pipelined stream: same pixels and bytes as the inline path, results in
 * input order, bad inputs reported in place, bounded read-ahead and write-behind.
 */
import assert from "node:assert/strict";
import { type ImageIo, IoPool, type Timed, type WriteJob } from "../src/io/io_pool.ts";
import { detectStream, type StreamItem, type StreamResult } from "../src/pipeline/stream.ts";
import { Detector } from "../src/pipeline/detector.ts";
import { type OutputPaths, outputPaths, OVERLAY_ALPHA, writeOutputs } from "../src/io/outputs.ts";
import { overlay } from "../src/io/colormap.ts";
import { readImage } from "../src/io/decode.ts";
import { encodeImagePng } from "../src/io/encode.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import type { RgbImage } from "../src/io/types.ts";
import { encodeModel, makeModel, makeNode, makeValueInfo } from "../src/features/onnx_proto.ts";
import { createCpuBackbone } from "../src/features/backbone_cpu.ts";
import { CpuFca } from "../src/fca/fast/mod.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { fcaMapReference } from "../src/fca/rank_matching.ts";
import { medianReference } from "../src/fca/median_reference.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function texturesIn(dir: string, n: number, size = 96): Promise<string[]> {
  const paths: string[] = [];
  for (let k = 0; k < n; k++) {
    paths.push(`${dir}/t${k}.png`);
    const image = syntheticTexture(size, { seed: k + 1, defect: true }).image;
    await Deno.writeFile(paths[k], encodeImagePng(image));
  }
  return paths;
}

/** Hand-crafted colour features keep these tests free of the shared model. */
const colorsDetector = () => Detector.create({ features: "colors", backend: "cpu" });

function rgbOf(rgba: Uint8Array): Uint8Array {
  return rgba.filter((_, i) => i % 4 !== 3);
}

async function collect(gen: AsyncGenerator<StreamResult>): Promise<StreamResult[]> {
  const out: StreamResult[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

Deno.test({
  name: "io pool: worker decode and (split) writes equal the inline ones, byte for byte",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    const [path] = await texturesIn(dir, 1);
    const pools = [1, 2, 3].map((n) => IoPool.create(n));
    const inline = IoPool.create(0);
    const detector = await colorsDetector();
    try {
      const viaWorker = (await pools[0].decode(path)).value;
      assert.deepEqual(viaWorker, await readImage(path));
      const det = await detector.detect(viaWorker);
      const expected = outputPaths(path, `${dir}/inline`);
      await Deno.mkdir(`${dir}/inline`);
      await writeOutputs(det, viaWorker, expected);
      // A detection may come with its overlay rendered (as the webgpu backend's do).
      const rendered = rgbOf(overlay(viaWorker, det.heatmap, OVERLAY_ALPHA));
      for (const [pool, withOverlay] of pools.flatMap((p) => [[p, false], [p, true]] as const)) {
        const sub = `${dir}/${pool.size}${withOverlay ? "o" : ""}`;
        const paths = outputPaths(path, sub);
        await Deno.mkdir(sub);
        // The pool takes ownership of (detaches) the job's arrays: give it copies.
        const job: WriteJob = {
          detection: {
            map: { ...det.map, data: det.map.data.slice() },
            heatmap: det.heatmap.slice(),
            ...(withOverlay ? { overlay: rendered.slice() } : {}),
          },
          image: { ...viaWorker, data: viaWorker.data.slice() },
          paths,
        };
        assert.deepEqual((await pool.write(job)).value, paths);
        const moved = withOverlay ? job.detection.overlay! : job.image.data;
        assert.equal(moved.length, 0, "the overlay's input was transferred, not copied");
        for (const k of ["heatmap", "overlay", "npy"] as const) {
          const [got, want] = [await Deno.readFile(paths[k]), await Deno.readFile(expected[k])];
          assert.deepEqual(got, want, `${sub}: ${k}`);
        }
      }
      await assert.rejects(pools[1].decode(`${dir}/missing.png`), /missing\.png: no such file/);
      await assert.rejects(inline.decode(`${dir}/missing.png`), /missing\.png: no such file/);
    } finally {
      pools.forEach((p) => p.dispose());
      await detector.dispose();
      await Deno.remove(dir, { recursive: true });
    }
    await assert.rejects(pools[0].decode(path), /io pool disposed/);
  },
});

Deno.test({
  name: "stream: input order, bad inputs in place, same maps as one-by-one detection",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    const good = await texturesIn(dir, 3);
    await Deno.writeFile(`${dir}/text.png`, new TextEncoder().encode("not an image"));
    const paths = [good[0], `${dir}/text.png`, good[1], `${dir}/missing.png`, good[2]];
    const items: StreamItem[] = paths.map((path) => ({
      path,
      outputs: outputPaths(path, `${dir}/out`),
    }));
    await Deno.mkdir(`${dir}/out`);
    const detector = await colorsDetector();
    const pool = IoPool.create(2);
    try {
      const results = await collect(detectStream(detector, items, pool));
      assert.deepEqual(results.map((r) => r.path), paths);
      assert.match((results[1] as { error: string }).error, /not a PNG or JPEG image/);
      assert.match((results[3] as { error: string }).error, /no such file/);
      for (const i of [0, 2, 4]) {
        const r = results[i];
        assert.ok(!("error" in r), `item ${i} failed`);
        const image = await readImage(paths[i]);
        const det = await detector.detect(image);
        assert.equal(r.score, det.score);
        assert.deepEqual([r.width, r.height], [image.width, image.height]);
        for (const k of ["decode", "fca", "write", "latency"]) assert.ok(r.ms[k] >= 0, k);
        const npy = await Deno.readFile(r.outputs.npy);
        const expected = new Uint8Array(det.map.data.buffer);
        assert.deepEqual(npy.subarray(npy.length - expected.length), expected);
      }
    } finally {
      pool.dispose();
      await detector.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** An ImageIo stand-in with timers that counts decodes and writes in flight. */
function countingIo(size: number) {
  const image: RgbImage = { width: 4, height: 4, data: new Float32Array(48) }; // 192 bytes
  const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const io = {
    size,
    decoding: 0,
    maxDecoding: 0,
    writing: 0,
    maxWriting: 0,
    async decode(path: string): Promise<Timed<RgbImage>> {
      this.maxDecoding = Math.max(this.maxDecoding, ++this.decoding);
      await later(3);
      this.decoding--;
      if (path.endsWith("7")) throw new Error(`${path}: broken`);
      return { value: { ...image, data: image.data.slice() }, ms: 3 };
    },
    async write(job: WriteJob): Promise<Timed<OutputPaths>> {
      this.maxWriting = Math.max(this.maxWriting, ++this.writing);
      await later(5 + (job.paths.npy.length % 3)); // writes finish out of order
      this.writing--;
      return { value: job.paths, ms: 5 };
    },
  };
  return io satisfies ImageIo;
}

/** A detector stand-in that checks it runs alone and, optionally, beside no decode or write. */
function countingDetector(io: { decoding: number; writing: number }, alone = false) {
  let detecting = 0;
  return {
    async detect() {
      assert.equal(++detecting, 1, "one detection at a time");
      if (alone) assert.deepEqual([io.decoding, io.writing], [0, 0], "no I/O beside it");
      await new Promise((resolve) => setTimeout(resolve, 1));
      detecting--;
      const map = { height: 4, width: 4, data: new Float32Array(16) }; // 64 bytes, heatmap 64
      return { map, score: 0, heatmap: new Uint8Array(64), timings: {} };
    },
  };
}

const twenty = Array.from({ length: 20 }, (_, i) => ({
  path: `p${i}`,
  outputs: outputPaths(`p${i}.png`),
}));

Deno.test("stream: at most readAhead decodes and writeBehind writes in flight", async () => {
  const io = countingIo(2);
  const results = await collect(
    detectStream(countingDetector(io), twenty, io, { readAhead: 3, writeBehind: 2 }),
  );
  assert.deepEqual(results.map((r) => r.path), twenty.map((i) => i.path));
  assert.deepEqual(results.filter((r) => "error" in r).map((r) => r.path), ["p7", "p17"]);
  assert.equal(io.maxDecoding, 3);
  assert.ok(io.maxWriting <= 3 && io.maxWriting >= 2, `writes in flight: ${io.maxWriting}`);
});

Deno.test("stream: the memory budget bounds what is held; too-large images go one by one", async () => {
  // Half of 900 bytes holds two 192-byte images (the current one and one ahead) and one
  // 320-byte output (image, map and heatmap) being written.
  const io = countingIo(4);
  let results = await collect(
    detectStream(countingDetector(io), twenty, io, { memoryBudget: 900 }),
  );
  assert.deepEqual(results.map((r) => r.path), twenty.map((i) => i.path));
  assert.equal(io.maxDecoding, 1);
  assert.equal(io.maxWriting, 2); // the one over the budget is awaited before the next detection
  // A budget below one image: decode, detect and write strictly in turn, as a plain loop.
  const tight = countingIo(4);
  results = await collect(
    detectStream(countingDetector(tight, true), twenty, tight, { memoryBudget: 100 }),
  );
  assert.deepEqual(results.map((r) => r.path), twenty.map((i) => i.path));
  assert.deepEqual([tight.maxDecoding, tight.maxWriting], [1, 1]);
});

Deno.test({
  name: "worker pools still start after onnxruntime-web replaced globalThis.Worker",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    const [path] = await texturesIn(dir, 1, 32);
    // A one-node model on onnxruntime-web's wasm build: initialising it swaps the global Worker.
    const model = encodeModel(makeModel({
      node: [makeNode("Relu", ["input"], ["features"], { name: "relu" })],
      name: "relu",
      initializer: [],
      input: [makeValueInfo("input", [1, 3, "h", "w"])],
      output: [makeValueInfo("features", [1, 3, "h", "w"])],
      valueInfo: [],
      unknown: [],
    }));
    const spec = { input: "input", output: "features", mean: [0, 0, 0], std: [1, 1, 1] };
    const backbone = await createCpuBackbone(model, spec, { runtime: "wasm", threads: 1 });
    const image = await readImage(path);
    const features = await backbone.extract(image);
    const pool = IoPool.create(1);
    const fca = await CpuFca.create({ threads: 2 });
    try {
      assert.deepEqual((await pool.decode(path)).value, image);
      const f = { ...features, data: features.data.slice() };
      const params = { patch: 3, sigmaP: 3, sigmaS: 1 };
      const map = await fca.fcaMap(minMaxScale(f), params);
      const g = minMaxScale({ ...features, data: features.data.slice() });
      assert.deepEqual(map.data, fcaMapReference(g, medianReference(g, 3), params).data);
    } finally {
      pool.dispose();
      fca.dispose();
      await backbone.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
