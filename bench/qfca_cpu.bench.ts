/**
 * QFCA against the exact fast FCA, CPU backend, FCA stage only, in the same run: 64² and 128²
 * feature maps × 512 channels (the feature maps of 512² and 1024² images), from the real fabric
 * features of the golden data (mirror-tiled as in `fca_cpu.bench.ts`), min-max scaled.
 *
 * - `deno bench -A bench/qfca_cpu.bench.ts`: qfca (default bins) and exact FCA stage per size.
 * - `deno run -A bench/qfca_cpu.bench.ts --table [--runs 3] [--bins 8,16,32,64] [--t25]`: a table
 *   of warm medians, qfca / exact; `--t25` adds the paper's large context, T = 25 at 128² (exact
 *   FCA there: one cold run, it takes minutes).
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { DEFAULT_QFCA_BINS } from "../src/design.ts";
import { CpuFca } from "../src/fca/fast/mod.ts";
import { CpuQfca } from "../src/fca/fast/qfca.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { DEFAULT_FCA_PARAMS, type FeatureMap } from "../src/fca/types.ts";
import { readNpy } from "../src/io/npy.ts";

const GOLDEN = Deno.env.get("FCA_GOLDEN") ??
  `${Deno.env.get("FCA_SHARED") ?? "../shared"}/golden`;
const SIDES = [64, 128];

async function baseFeatures(): Promise<FeatureMap> {
  try {
    const f = await readNpy(`${GOLDEN}/pipeline_fabric_stain_hsst/features.npy`);
    return { channels: f.shape[1], height: f.shape[2], width: f.shape[3], data: f.data };
  } catch {
    const C = 512, S = 64, data = new Float32Array(C * S * S);
    let a = 1;
    for (let i = 0; i < data.length; i++) {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      data[i] = Math.max(0, a / 2 ** 32 - 0.66) / 0.34;
    }
    return { channels: C, height: S, width: S, data };
  }
}

function resized(f: FeatureMap, side: number): FeatureMap {
  const { channels: C, height: H, width: W } = f;
  const data = new Float32Array(C * side * side);
  const mirror = (i: number, n: number) => {
    const m = i % (2 * n);
    return m < n ? m : 2 * n - 1 - m;
  };
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        data[(c * side + y) * side + x] = f.data[(c * H + mirror(y, H)) * W + mirror(x, W)];
      }
    }
  }
  return minMaxScale({ channels: C, height: side, width: side, data });
}

const base = await baseFeatures();
const maps = new Map(SIDES.map((s) => [s, resized(base, s)]));
const params = { ...DEFAULT_FCA_PARAMS };

if (Deno.args.includes("--table")) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      table: { type: "boolean" },
      t25: { type: "boolean" },
      runs: { type: "string", default: "3" },
      bins: { type: "string", default: "8,16,32,64" },
      sides: { type: "string", default: SIDES.join(",") },
    },
  });
  const runs = Number(values.runs);
  const fca = await CpuFca.create();
  const qfca = CpuQfca.create();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  /** Wall ms and process CPU ms (every thread) of one call. */
  const ms = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now(), u0 = process.cpuUsage();
    await fn();
    const u = process.cpuUsage(u0);
    return [performance.now() - t0, (u.user + u.system) / 1000];
  };
  let load = "";
  try {
    load = `, load average ${Deno.readTextFileSync("/proc/loadavg").split(" ")[0]}`;
  } catch { /* not Linux */ }
  console.log(
    `FCA stage, cpu, ${fca.threads} threads, ${navigator.hardwareConcurrency} cores${load}, warm median of ${runs}, exact and qfca runs interleaved`,
  );
  console.log(
    "| features | T | exact FCA wall | qfca B | qfca wall | qfca / exact (wall) | exact CPU | qfca CPU | qfca / exact (CPU) |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  const cases: [number, number][] = values.sides!.split(",").map((s) => [Number(s), params.patch]);
  if (values.t25) cases.push([128, 25]);
  const binList = values.bins!.split(",").map(Number);
  for (const [side, T] of cases) {
    const f = maps.get(side) ?? resized(base, side);
    // T = 25: the paper's large context with σp scaled as T (σp = 3 at T = 9).
    const p = { ...params, patch: T, sigmaP: T === 9 ? params.sigmaP : (3 * T) / 9 };
    const exact: number[][] = [], q: number[][][] = binList.map(() => []);
    // Exact FCA at T = 25 takes minutes (625 values ranked per window): one cold run only.
    const exactRuns = T === 9 ? runs : 1;
    if (T === 9) await fca.fcaMap(f, p); // warm-up
    for (const B of binList) await qfca.qfcaMap(f, p, B);
    for (let r = 0; r < runs; r++) {
      if (r < exactRuns) exact.push(await ms(() => fca.fcaMap(f, p)));
      for (const [i, B] of binList.entries()) q[i].push(await ms(() => qfca.qfcaMap(f, p, B)));
    }
    const e = median(exact.map((x) => x[0])), ec = median(exact.map((x) => x[1]));
    for (const [i, B] of binList.entries()) {
      const m = median(q[i].map((x) => x[0])), mc = median(q[i].map((x) => x[1]));
      console.log(
        `| ${f.channels}×${side}×${side} | ${T} | ${e.toFixed(0)} ms | ${B} | ${
          m.toFixed(0)
        } ms | ${(m / e).toFixed(3)} | ${ec.toFixed(0)} ms | ${mc.toFixed(0)} ms | ${
          (mc / ec).toFixed(3)
        } |`,
      );
    }
  }
  try {
    console.log(`load average at the end ${Deno.readTextFileSync("/proc/loadavg").split(" ")[0]}`);
  } catch { /* not Linux */ }
  fca.dispose();
  qfca.dispose();
} else {
  const fca = await CpuFca.create();
  const qfca = CpuQfca.create();
  for (const side of SIDES) {
    const f = maps.get(side)!;
    Deno.bench({
      name: `exact fca stage ${f.channels}x${side}x${side}`,
      group: `qfca ${side}`,
      baseline: true,
      async fn() {
        await fca.fcaMap(f, params);
      },
    });
    Deno.bench({
      name: `qfca stage ${f.channels}x${side}x${side} B=${DEFAULT_QFCA_BINS}`,
      group: `qfca ${side}`,
      async fn() {
        await qfca.qfcaMap(f, params, DEFAULT_QFCA_BINS);
      },
    });
  }
}
