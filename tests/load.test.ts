/**
 * Steady under load (issue 6): a batch of small images through one CPU detector in one process
 * keeps memory flat and gives bit-identical output for identical input.
 *
 * The batch runs in a child process (this file, run with `FCA_LOAD_CHILD=1` and V8's `--expose-gc`)
 * so that memory is read after full garbage collections, not at the whim of the collector:
 * JS heap and ArrayBuffer memory must return to their warmed-up level, and RSS must stay within a
 * margin far below what keeping any one per-image buffer would cost.
 */
import assert from "node:assert/strict";
import { Detector } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { HAVE_MODEL, MODEL_PATH, skipWithoutShared } from "./_shared.ts";

/** Images in the batch, distinct inputs cycled through, and when memory is first read. */
const N = 200, DISTINCT = 4, WARMUP = 20, SIZE = 96;

/** Memory figures read by the child after forced garbage collection. */
interface Reading {
  rss: number;
  heapUsed: number;
  external: number;
}

/** What the child reports. */
interface ChildReport {
  images: number;
  warm: Reading;
  end: Reading;
  /** Per distinct input: did every repeat give the same map and heatmap bytes as the first? */
  identical: boolean[];
  /** Bytes allocated per image for the outputs and the decoded input (map, heatmap, image). */
  perImageBytes: number;
  ms: number;
}

function read(): Reading {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("load.test.ts child: run with --v8-flags=--expose-gc");
  for (let i = 0; i < 3; i++) gc();
  const m = Deno.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The batch itself (child process). */
async function child(): Promise<ChildReport> {
  const images = Array.from(
    { length: DISTINCT },
    (_, i) => syntheticTexture(SIZE, { seed: i + 1 }).image,
  );
  const detector = await Detector.create({ model: MODEL_PATH, backend: "cpu", preset: "paper" });
  const first: { map: Float32Array; heatmap: Uint8Array }[] = [];
  const identical = new Array<boolean>(DISTINCT).fill(true);
  let warm: Reading | undefined;
  const t0 = performance.now();
  try {
    for (let i = 0; i < N; i++) {
      if (i === WARMUP) warm = read();
      const k = i % DISTINCT;
      // A fresh copy each time, as a batch decodes every file anew.
      const input = { ...images[k], data: images[k].data.slice() };
      const det = await detector.detect(input);
      if (i < DISTINCT) first.push({ map: det.map.data, heatmap: det.heatmap });
      else if (
        !sameBytes(det.map.data, first[k].map) || !sameBytes(det.heatmap, first[k].heatmap)
      ) {
        identical[k] = false;
      }
    }
  } finally {
    await detector.dispose();
  }
  const ms = performance.now() - t0;
  const perImageBytes = SIZE * SIZE * (3 * 4 + 4 + 4);
  return { images: N, warm: warm!, end: read(), identical, perImageBytes, ms };
}

if (Deno.env.get("FCA_LOAD_CHILD") === "1") {
  console.log(JSON.stringify(await child()));
}

Deno.test({
  name: `one CPU detector, ${N} images of ${SIZE}x${SIZE}: memory flat, output bit-identical`,
  ignore: skipWithoutShared(HAVE_MODEL),
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", new URL(import.meta.url).pathname],
      env: { FCA_LOAD_CHILD: "1", FCA_MODEL: MODEL_PATH },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r: ChildReport = JSON.parse(stdout.split("\n").at(-1)!);
    const mb = (v: number) => (v / 2 ** 20).toFixed(1);
    const steps = r.images - WARMUP;
    console.log(
      `  ${r.images} images in ${(r.ms / 1000).toFixed(1)} s; after warm-up -> end: rss ${
        mb(r.warm.rss)
      } -> ${mb(r.end.rss)} MiB, heap ${mb(r.warm.heapUsed)} -> ${
        mb(r.end.heapUsed)
      } MiB, external ${mb(r.warm.external)} -> ${mb(r.end.external)} MiB`,
    );
    assert.deepEqual(r.identical, new Array(DISTINCT).fill(true), "repeated input, same bytes out");
    // Keeping the outputs or the input of every image would add perImageBytes (~150 KB) per step
    // to ArrayBuffer memory; keeping anything of 5 KB per image would add 1 MiB to the heap.
    assert.ok(r.end.external - r.warm.external < 1 * 2 ** 20, "ArrayBuffer memory grew");
    assert.ok(r.end.heapUsed - r.warm.heapUsed < 1 * 2 ** 20, "JS heap grew");
    // RSS also sees native memory (onnxruntime's tensors, worker heaps): allow a quarter of what
    // leaking the per-image buffers alone would cost, so allocator noise passes and leaks do not.
    const rssMargin = Math.max(8 * 2 ** 20, (steps * r.perImageBytes) / 4);
    assert.ok(
      r.end.rss - r.warm.rss < rssMargin,
      `RSS grew ${mb(r.end.rss - r.warm.rss)} MiB (margin ${mb(rssMargin)} MiB)`,
    );
  },
});
