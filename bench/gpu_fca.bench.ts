/**
 * WebGPU FCA stage benchmark: `deno bench -A bench/gpu_fca.bench.ts`.
 *
 * Feature maps of 32², 64², 128² × 512 channels (the ResNet stage-2 output of 256², 512², 1024²
 * images) with ~2/3 exact zeros like real ReLU features. When the adapter has `timestamp-query`,
 * a table of GPU milliseconds per kernel (median of the timed runs) is printed before the
 * `deno bench` wall-clock results; otherwise only wall time is reported. Each run is what the
 * detector records per image: FCA, upsampling to the image size, colormap and overlay.
 *
 * Environment: FCA_BENCH_SIZES (feature sides, default "32,64,128"; "16" on a software
 * adapter, where 128² takes many minutes), FCA_BENCH_CHANNELS (default 512, 64 on software),
 * FCA_BENCH_RUNS (timed GPU runs per size, default 10), FCA_BENCH_PATCH (default 9).
 */
import { GpuFca, type GpuFcaInput } from "../src/gpu/fca_gpu.ts";
import { DEFAULT_FCA_PARAMS } from "../src/fca/types.ts";

const adapter = await navigator.gpu?.requestAdapter().catch(() => null) ?? null;
const software = adapter?.info.isFallbackAdapter ?? true;
const env = (name: string, fallback: string) => Deno.env.get(name) ?? fallback;
const sides = env("FCA_BENCH_SIZES", software ? "16" : "32,64,128").split(",").map(Number);
const channels = Number(env("FCA_BENCH_CHANNELS", software ? "64" : "512"));
const runs = Number(env("FCA_BENCH_RUNS", "10"));
const params = { ...DEFAULT_FCA_PARAMS, patch: Number(env("FCA_BENCH_PATCH", "9")) };
/** Feature stride of the backbone: the output image is this many times larger. */
const STRIDE = 8;

/** Grey ramp LUT (the colormap's content does not affect its cost). */
const LUT = Uint8Array.from({ length: 1024 }, (_, i) => (i % 4 === 3 ? 255 : i >> 2));

/** Deterministic ReLU-like features: max(0, gaussian-ish − 0.43) leaves about 2/3 zeros. */
function syntheticFeatures(n: number): Float32Array<ArrayBuffer> {
  const data = new Float32Array(n);
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  for (let i = 0; i < n; i++) data[i] = Math.max(0, (next() + next() + next()) / 3 - 0.57);
  return data;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

if (adapter === null) {
  Deno.bench({ name: "gpu FCA (no WebGPU adapter)", ignore: true, fn() {} });
} else {
  const hasTimestamps = adapter.features.has("timestamp-query");
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: hasTimestamps ? ["timestamp-query"] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    },
  });
  console.log(
    `adapter: ${adapter.info.description || adapter.info.vendor} ` +
      `(${software ? "software" : "hardware"}); ${channels} channels, T=${params.patch}`,
  );
  const inputs = sides.map((side): GpuFcaInput => {
    const data = syntheticFeatures(channels * side * side);
    const features = device.createBuffer({
      label: `bench features ${side}`,
      size: data.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(features, 0, data);
    return { features, channels, height: side, width: side };
  });
  // The input image the overlay is blended over, as the detector passes it (content is free).
  const images = new Map(inputs.map((input) => {
    const bytes = 3 * (input.height * STRIDE) * (input.width * STRIDE) * 4;
    const usage = GPUBufferUsage.STORAGE;
    return [input, device.createBuffer({ label: "bench image", size: bytes, usage })];
  }));
  const spec = (input: GpuFcaInput) => ({
    height: input.height * STRIDE,
    width: input.width * STRIDE,
    colormapLut: LUT,
    overlay: { image: images.get(input)!, alpha: 0.5 },
  });

  if (hasTimestamps) {
    const profiled = await GpuFca.create(device, { profile: true });
    const rows: string[] = [];
    for (const input of inputs) {
      const samples: Record<string, number>[] = [];
      for (let r = 0; r < runs + 2; r++) {
        await profiled.run(input, params, spec(input));
        if (r >= 2) samples.push({ ...profiled.lastTimings });
      }
      const stages = Object.keys(samples[0]);
      const ms = Object.fromEntries(stages.map((k) => [k, median(samples.map((s) => s[k]))]));
      const fca = ["minmax_scale", "median_reference_rank", "median_reference_select"]
        .concat(["rank_matching", "overlap_add"]).reduce((a, k) => a + (ms[k] ?? 0), 0);
      const total = stages.reduce((a, k) => a + ms[k], 0);
      const rate = (input.height * input.width * channels) / (ms.rank_matching / 1000);
      rows.push(
        `${input.height}²→${input.height * STRIDE}²  FCA stage ${fca.toFixed(3)} ms, all ` +
          `${total.toFixed(3)} ms; rank_matching ${rate.toExponential(2)} windows·channels/s; ` +
          stages.map((k) => `${k} ${ms[k].toFixed(3)}`).join(", "),
      );
    }
    profiled.dispose();
    console.log(`GPU time (timestamp queries, median of ${runs}):\n${rows.join("\n")}`);
  } else {
    console.log("adapter lacks timestamp-query: wall time only");
  }

  const fca = await GpuFca.create(device);
  for (const input of inputs) {
    Deno.bench({
      name: `gpu FCA ${input.height}² × ${channels} → ${input.height * STRIDE}² (wall, one submit)`,
      group: "gpu-fca",
      async fn() {
        await fca.run(input, params, spec(input));
      },
    });
  }
}
