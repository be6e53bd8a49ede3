/**
 * WebGPU QFCA stage benchmark: `deno bench -A bench/gpu_qfca.bench.ts` (part of the device kit,
 * bench/device/run.sh). Feature maps of 32², 64², 128² × 512 channels (256², 512², 1024² images)
 * with ~2/3 exact zeros like real ReLU features; each run is one `GpuQfca.map`: upload, reference,
 * window errors and gather per channel chunk, readback, and the host's scale and σs blur. A table
 * of wall milliseconds (median of FCA_BENCH_RUNS) per bin count is printed first.
 *
 * Environment: FCA_BENCH_SIZES (default "32,64,128"; "16" on a software adapter),
 * FCA_BENCH_CHANNELS (default 512; 64 on software), FCA_BENCH_RUNS (default 10),
 * FCA_BENCH_PATCH (default 9), FCA_BENCH_BINS (default "8,16,32").
 */
import { GpuQfca } from "../src/gpu/qfca_gpu.ts";
import { DEFAULT_FCA_PARAMS } from "../src/fca/types.ts";

const adapter = await navigator.gpu?.requestAdapter().catch(() => null) ?? null;
const software = adapter?.info.isFallbackAdapter ?? true;
const env = (name: string, fallback: string) => Deno.env.get(name) ?? fallback;
const sides = env("FCA_BENCH_SIZES", software ? "16" : "32,64,128").split(",").map(Number);
const channels = Number(env("FCA_BENCH_CHANNELS", software ? "64" : "512"));
const runs = Number(env("FCA_BENCH_RUNS", "10"));
const binList = env("FCA_BENCH_BINS", "8,16,32").split(",").map(Number);
const params = { ...DEFAULT_FCA_PARAMS, patch: Number(env("FCA_BENCH_PATCH", "9")) };

function syntheticFeatures(n: number): Float32Array {
  const data = new Float32Array(n);
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  for (let i = 0; i < n; i++) data[i] = Math.max(0, (next() + next() + next()) / 3 - 0.57) / 0.43;
  return data;
}

if (adapter) {
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  const q = await GpuQfca.create(device);
  const maps = sides.map((side) => ({
    side,
    f: { channels, height: side, width: side, data: syntheticFeatures(channels * side * side) },
  }));
  console.log(
    `qfca on ${
      adapter.info.description || adapter.info.vendor
    }, ${channels} channels, T=${params.patch}, median of ${runs} (wall ms incl. upload/readback)`,
  );
  console.log("| features | B | ms |");
  console.log("|---|---:|---:|");
  for (const { side, f } of maps) {
    for (const B of binList) {
      await q.map(f, params, B);
      const t: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        await q.map(f, params, B);
        t.push(performance.now() - t0);
      }
      t.sort((a, b) => a - b);
      console.log(`| ${channels}×${side}×${side} | ${B} | ${t[t.length >> 1].toFixed(2)} |`);
    }
  }
  for (const { side, f } of maps) {
    Deno.bench({
      name: `gpu qfca ${channels}x${side}x${side} B=16`,
      async fn() {
        await q.map(f, params, 16);
      },
    });
  }
} else {
  console.log("gpu_qfca.bench.ts: no WebGPU adapter, skipped");
}
