/**
 * Fast CPU FCA stage benchmarks at 32², 64² and 128² feature maps × 512 channels (the feature maps
 * of 256², 512² and 1024² images), built from the real fabric features of the golden data (cropped
 * or mirror-tiled, so the share of exact zeros stays realistic; a zero-heavy synthetic map when the
 * golden data is absent).
 *
 * - `deno bench -A bench/fca_cpu.bench.ts`: median reference and whole FCA stage per size.
 * - `deno run -A bench/fca_cpu.bench.ts --table [--runs 3] [--threads N] [--spec 32,64]
 *   [--authors 64=7.68,...]`: a table of warm medians and windows·channels per second;
 *   `--authors SIDE=SECONDS` adds the speed-up over the authors' FCA stage timed on this machine
 *   in the same sitting (ratios against another machine or sitting, e.g. `../shared/anchors.md`,
 *   are not valid); `--spec` also times the readable specification at those sizes.
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { CpuFca } from "../src/fca/fast/mod.ts";
import { medianReference } from "../src/fca/median_reference.ts";
import { fcaMapReference } from "../src/fca/rank_matching.ts";
import { DEFAULT_FCA_PARAMS, type FeatureMap } from "../src/fca/types.ts";
import { readNpy } from "../src/io/npy.ts";

const GOLDEN = Deno.env.get("FCA_GOLDEN") ??
  `${Deno.env.get("FCA_SHARED") ?? "../shared"}/golden`;
const SIDES = [32, 64, 128];

/** The 64×64×512 fabric features, or a zero-heavy synthetic stand-in. */
async function baseFeatures(): Promise<FeatureMap> {
  try {
    const f = await readNpy(`${GOLDEN}/pipeline_fabric_stain_hsst/features.npy`);
    return { channels: f.shape[1], height: f.shape[2], width: f.shape[3], data: f.data };
  } catch {
    const C = 512, S = 64, data = new Float32Array(C * S * S);
    let a = 1;
    for (let i = 0; i < data.length; i++) {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      data[i] = Math.max(0, a / 2 ** 32 - 0.66) / 0.34; // ~66% exact zeros, like ReLU features
    }
    return { channels: C, height: S, width: S, data };
  }
}

/** `side`×`side` version of `f`: a crop, or a mirror tiling (keeps each channel's min and max). */
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
  return { channels: C, height: side, width: side, data };
}

const base = await baseFeatures();
const maps = new Map(SIDES.map((s) => [s, resized(base, s)]));
const params = { ...DEFAULT_FCA_PARAMS };

if (Deno.args.includes("--table")) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      table: { type: "boolean" },
      runs: { type: "string", default: "3" },
      threads: { type: "string" },
      spec: { type: "string", default: "" },
      authors: { type: "string", default: "" },
    },
  });
  /** The authors' FCA stage in seconds by feature side, timed in this sitting (--authors). */
  const AUTHORS_S: Record<number, number> = Object.fromEntries(
    values.authors ? values.authors.split(",").map((kv) => kv.split("=").map(Number)) : [],
  );
  const runs = Number(values.runs);
  const specSides = values.spec ? values.spec.split(",").map(Number) : [];
  const engine = await CpuFca.create(values.threads ? { threads: Number(values.threads) } : {});
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  /** CPU seconds of every thread of this process (Linux /proc; empty elsewhere). */
  const threadCpu = (): Map<string, number> => {
    const out = new Map<string, number>();
    try {
      for (const t of Deno.readDirSync("/proc/self/task")) {
        const stat = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        out.set(t.name, (Number(f[11]) + Number(f[12])) / 100); // utime + stime, 100 Hz ticks
      }
    } catch { /* not Linux */ }
    return out;
  };
  /** Warm median wall seconds and median process CPU seconds of `fn` over `runs` runs. */
  const time = async (fn: () => unknown, n: number) => {
    await fn(); // warm-up
    const wall: number[] = [], cpu: number[] = [], busiest: number[] = [];
    for (let r = 0; r < n; r++) {
      const t0 = performance.now(), u0 = process.cpuUsage(), c0 = threadCpu();
      await fn();
      wall.push((performance.now() - t0) / 1000);
      const u = process.cpuUsage(u0);
      cpu.push((u.user + u.system) / 1e6);
      let most = 0;
      for (const [id, c] of threadCpu()) most = Math.max(most, c - (c0.get(id) ?? 0));
      busiest.push(most);
    }
    // Busiest-thread time as a mean: /proc counts 10 ms ticks, too coarse for a median at 32².
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { wall: median(wall), cpu: median(cpu), busiest: mean(busiest) };
  };
  let load = "";
  try {
    load = `, load average ${Deno.readTextFileSync("/proc/loadavg").split(" ")[0]}`;
  } catch { /* not Linux */ }
  console.log(
    `fca cpu stage, ${engine.threads} threads, ${navigator.hardwareConcurrency} cores${load}, warm median of ${runs}; CPU s = process CPU time (all threads); busiest = mean CPU time of the busiest thread, about the wall time when the cores are not shared`,
  );
  console.log(
    "| features | authors | spec (1 thread) | fast: median ref | fast: FCA stage | CPU s | busiest s | windows·ch/s | vs authors (wall) | vs authors (busiest) |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const side of SIDES) {
    const f = maps.get(side)!;
    const med = await time(() => engine.medianReference(f, params.patch), runs);
    const stage = await time(() => engine.fcaMap(f, params), runs);
    let spec = "—";
    if (specSides.includes(side)) {
      const t0 = performance.now();
      fcaMapReference(f, medianReference(f, params.patch), params);
      spec = `${((performance.now() - t0) / 1000).toFixed(2)} s`;
    }
    const wc = side * side * f.channels, authors = AUTHORS_S[side];
    console.log(
      `| ${f.channels}×${side}×${side} | ${authors ? `${authors} s` : "—"} | ${spec} | ${
        (med.wall * 1000).toFixed(1)
      } ms | ${(stage.wall * 1000).toFixed(1)} ms | ${stage.cpu.toFixed(2)} | ${
        stage.busiest.toFixed(3)
      } | ${(wc / stage.wall / 1e6).toFixed(2)} M | ${
        authors ? `${(authors / stage.wall).toFixed(1)}×` : "—"
      } | ${authors && stage.busiest > 0 ? `${(authors / stage.busiest).toFixed(1)}×` : "—"} |`,
    );
  }
  engine.dispose();
} else {
  const engine = await CpuFca.create();
  for (const side of SIDES) {
    const f = maps.get(side)!;
    const wc = (side * side * f.channels / 1e6).toFixed(2);
    Deno.bench({
      name: `median reference ${f.channels}x${side}x${side}`,
      group: `median ${side}`,
      async fn() {
        await engine.medianReference(f, params.patch);
      },
    });
    Deno.bench({
      name: `fca stage ${f.channels}x${side}x${side} (${wc} M windows·channels)`,
      group: `fca ${side}`,
      async fn() {
        await engine.fcaMap(f, params);
      },
    });
  }
}
