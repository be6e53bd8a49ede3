/**
 * End-to-end benchmark: per-stage and total milliseconds (warm, median of --runs) for each
 * backend at several sizes, on a given image (resized) or a generated texture; prints the machine
 * and the adapter. `deno task e2e [--image PATH] [--sizes 256,512,1024] [--backends cpu,webgpu]
 * [--runs 3] [--cold] [--io-workers N] [--stats fca,qfca] [--bins B] [--pca K] [--presets default,paper]`;
 * each preset and statistic gets
 * its own table (qfca: a `qfca ms` stage column where fca has `fca ms`). Outputs are written as the CLI writes a batch: on I/O
 * workers when the detector leaves cores free (`--io-workers N` forces N; 0: the main thread).
 * @module
 */
import { parseArgs } from "node:util";
import { Detector } from "../src/pipeline/detector.ts";
import { readImage } from "../src/io/decode.ts";
import { resizeImage } from "../src/io/resize.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { outputPaths } from "../src/io/outputs.ts";
import { defaultIoWorkers, IoPool } from "../src/io/io_pool.ts";
import { encodeImagePng } from "../src/io/encode.ts";
import type { RgbImage } from "../src/io/types.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    image: { type: "string" },
    sizes: { type: "string", default: "256,512,1024" },
    backends: { type: "string", default: "cpu,webgpu" },
    runs: { type: "string", default: "3" },
    model: { type: "string" },
    cold: { type: "boolean", default: false },
    "io-workers": { type: "string" },
    stats: { type: "string", default: "fca" },
    bins: { type: "string" },
    pca: { type: "string" },
    presets: { type: "string", default: "default" },
  },
});
const sizes = values.sizes!.split(",").map(Number);
const runs = Number(values.runs);
const source = values.image ? await readImage(values.image) : undefined;
const tmp = await Deno.makeTempDir({ prefix: "fca-e2e-" });

console.log(
  `machine: ${cpuModel()} x${navigator.hardwareConcurrency}, ${Deno.build.os}/${Deno.build.arch}, deno ${Deno.version.deno}`,
);
const statsList = values.stats!.split(",") as ("fca" | "qfca")[];
const presets = values.presets!.split(",") as ("default" | "paper")[];
for (
  const [backend, stats, preset] of values.backends!.split(",").flatMap((b) =>
    statsList.flatMap((s) => presets.map((p) => [b as "cpu" | "webgpu", s, p] as const))
  )
) {
  let detector: Detector;
  try {
    detector = await Detector.create({
      backend,
      model: values.model,
      stats,
      preset,
      ...(values.bins ? { bins: Number(values.bins) } : {}),
      ...(values.pca ? { pca: Number(values.pca) } : {}),
    });
  } catch (err) {
    console.log(`\n${backend}: unavailable (${(err as Error).message})`);
    continue;
  }
  // Outputs are written as the CLI writes a batch (on I/O workers where cores are left free).
  const pool = IoPool.create(
    values["io-workers"] !== undefined
      ? Number(values["io-workers"])
      : defaultIoWorkers(detector.threads),
  );
  console.log(
    `\nbackend ${backend}, --preset ${preset}, --stats ${stats}: ${detector.adapter}; ${pool.size} io workers`,
  );
  const rows: string[][] = [];
  let stages: string[] = [];
  for (const size of sizes) {
    const image: RgbImage = source
      ? resizeImage(source, size, size)
      : syntheticTexture(size, { seed: 1, defect: true }).image;
    const samples: Record<string, number>[] = [];
    for (let r = 0; r <= runs; r++) {
      const own = { ...image, data: image.data.slice() }; // the pool takes the arrays it writes
      const t0 = performance.now();
      const det = await detector.detect(own);
      const t1 = performance.now();
      await pool.write({ detection: det, image: own, paths: outputPaths(`${tmp}/bench.png`) });
      const ms = { ...det.timings, write: performance.now() - t1, total: performance.now() - t0 };
      if (r > 0) samples.push(ms); // r = 0 warms up
    }
    stages = Object.keys(samples[0]);
    const med = (k: string) => median(samples.map((s) => s[k] ?? 0));
    const mpix = (size * size) / 1e6;
    rows.push([
      `${size}²`,
      ...stages.map((k) => med(k).toFixed(1)),
      (med("total") / mpix).toFixed(0),
    ]);
  }
  printTable(["size", ...stages.map((s) => `${s} ms`), "ms/MP"], rows);
  pool.dispose();
  await detector.dispose();
}

if (values.cold) {
  const size = sizes.includes(512) ? 512 : sizes[0];
  const path = `${tmp}/cold.png`;
  const img = source ? resizeImage(source, size, size) : syntheticTexture(size, { seed: 1 }).image;
  await Deno.writeFile(path, encodeImagePng(img));
  const t0 = performance.now();
  const p = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../mod.ts", import.meta.url).pathname, path, "--backend", "cpu"],
    stdout: "null",
    stderr: "inherit",
  }).output();
  console.log(
    `\ncold run (new process, cpu, ${size}²): ${
      (performance.now() - t0).toFixed(0)
    } ms, exit ${p.code}`,
  );
}
await Deno.remove(tmp, { recursive: true });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padStart(widths[i])).join(" | ") + " |";
  console.log(line(head));
  console.log("|" + widths.map((w) => "-".repeat(w + 1) + ":").join("|") + "|");
  for (const r of rows) console.log(line(r));
}

function cpuModel(): string {
  try {
    return /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "cpu";
  } catch {
    return "cpu";
  }
}
