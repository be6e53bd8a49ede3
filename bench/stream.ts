/**
 * Stream benchmark: many images through one process and one detector, the way a production line
 * feeds it. Reports images per second (after a warm-up), mean per-stage milliseconds, and the
 * process's memory every `--sample` images (printed as it goes, so a run stopped by a time limit
 * still reports), so that growth per image shows. Inputs are `--distinct` generated texture PNGs
 * (or copies of `--image`, resized) repeated up to `--count`; outputs are written for every image
 * (to a temporary folder, recycled), as the CLI does.
 *
 * `deno run -A bench/stream.ts [--backend cpu|webgpu] [--size 1024] [--count 200] [--distinct 8]
 *  [--io-workers N] [--warmup 5] [--sample 100] [--image PATH] [--model PATH]`
 * @module
 */
import { parseArgs } from "node:util";
import { Detector } from "../src/pipeline/detector.ts";
import { detectStream, type StreamItem } from "../src/pipeline/stream.ts";
import { defaultIoWorkers, IoPool } from "../src/io/io_pool.ts";
import { outputPaths } from "../src/io/outputs.ts";
import { readImage } from "../src/io/decode.ts";
import { resizeImage } from "../src/io/resize.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { encodeImagePng } from "../src/io/encode.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backend: { type: "string", default: "cpu" },
    size: { type: "string", default: "1024" },
    count: { type: "string", default: "200" },
    distinct: { type: "string", default: "8" },
    "io-workers": { type: "string" },
    warmup: { type: "string", default: "5" },
    sample: { type: "string", default: "100" },
    image: { type: "string" },
    model: { type: "string" },
  },
});
const size = Number(values.size), count = Number(values.count);
const distinct = Number(values.distinct), warmup = Number(values.warmup);
const sample = Number(values.sample);
const tmp = await Deno.makeTempDir({ prefix: "fca-stream-" });
const MiB = 1 << 20;

try {
  const source = values.image ? await readImage(values.image) : undefined;
  const inputs: string[] = [];
  for (let k = 0; k < distinct; k++) {
    const image = source
      ? resizeImage(source, size, size)
      : syntheticTexture(size, { seed: k + 1, defect: true }).image;
    inputs.push(`${tmp}/in${k}.png`);
    await Deno.writeFile(inputs[k], encodeImagePng(image));
  }
  // Output names repeat every 16 images: the disk holds a bounded amount whatever the count.
  const items: StreamItem[] = Array.from({ length: count }, (_, i) => ({
    path: inputs[i % distinct],
    outputs: outputPaths(`${tmp}/out${i % 16}.png`),
  }));

  const detector = await Detector.create({
    backend: values.backend as "cpu" | "webgpu",
    model: values.model,
  });
  const pool = IoPool.create(
    values["io-workers"] !== undefined
      ? Number(values["io-workers"])
      : defaultIoWorkers(detector.threads),
  );
  console.log(
    `stream: ${count} images of ${size}², backend ${detector.backend} (${detector.adapter}), ` +
      `${pool.size} io workers, ${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}`,
  );
  const sums: Record<string, number> = {};
  let done = 0, failed = 0, t0 = performance.now(), rss0 = 0;
  const start = performance.now();
  for await (const result of detectStream(detector, items, pool)) {
    done++;
    if ("error" in result) {
      failed++;
      console.error(`error: ${result.path}: ${result.error}`);
    } else if (done > warmup) {
      for (const [k, v] of Object.entries(result.ms)) sums[k] = (sums[k] ?? 0) + v;
    }
    if (done === warmup) {
      t0 = performance.now();
      rss0 = Deno.memoryUsage().rss;
    }
    if (done % sample === 0 || done === count) {
      const m = Deno.memoryUsage();
      const rate = done > warmup ? ((done - warmup) * 1000 / (performance.now() - t0)) : NaN;
      const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
      const elapsed = ((performance.now() - start) / 1000).toFixed(1);
      console.log(
        `  ${done} images, ${elapsed} s: ${rate.toFixed(2)} images/s; rss ${mib(m.rss)}, ` +
          `heap ${mib(m.heapUsed)}, external ${mib(m.external)}`,
      );
    }
  }
  const measured = count - warmup;
  const seconds = (performance.now() - t0) / 1000;
  const rss1 = Deno.memoryUsage().rss;
  pool.dispose();
  await detector.dispose();

  console.log(
    `\n${(measured / seconds).toFixed(2)} images/s over ${measured} images after ` +
      `${warmup} warm-up (${seconds.toFixed(1)} s; whole run ${
        ((performance.now() - start) / 1000).toFixed(1)
      } s), ${failed} failed`,
  );
  console.log(
    `rss growth after warm-up: ${((rss1 - rss0) / MiB).toFixed(1)} MiB ` +
      `(${((rss1 - rss0) / MiB / measured * 1000).toFixed(1)} KiB per image)`,
  );
  console.log("\nmean ms per image (each stage where it ran; decode/write overlap the detector):");
  for (const [k, v] of Object.entries(sums)) {
    console.log(`  ${k.padEnd(10)} ${(v / measured).toFixed(1)}`);
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
}
