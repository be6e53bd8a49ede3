/**
 * The paper's design-space ablation (Table 1: features × statistics; Table 2: reference
 * selection) on an MVTec-layout dataset, through the evaluation harness and the real Detector.
 *
 * `deno run -A bench/ablation.ts [--root DIR] [--list FILE] [--out DIR] [--size 256]
 * [--feature-size 64] [--paper-patch 25] [--combos all|table1|table2|f/s/r[/every],...]
 * [--threads N] [--merge a/results.json,...]`
 *
 * Every combination `features/stats/reference[/every]` is one Detector run over the listed images
 * (every `every`-th one when given), scored like `fca eval --eval-size <size>`: the feature-
 * resolution map and the masks are resized to size² before PRO@0.3 and pixel AUROC. Scale rules:
 * - the stride-8 backbone (`onnx`) sees the image resized to `--size`;
 * - stride-1 features (`colors`, `random`, `laws`, `vgg`) see it resized to `--feature-size`
 *   (their maps have that side; the paper's 256² is out of reach for FCA on two CPU cores);
 * - T is the odd number nearest to `--paper-patch` × map side / `--size`, so every method keeps
 *   the paper's context (25 px of a 256² image) whatever the map resolution;
 * - σ as the authors' configs: FCA σp 3, σs 1; SWW σ 6; hist and moments σ 6, aota σ 100 (built in).
 *
 * Results go to `<out>/results.json` (a rerun skips combinations already there, so an interrupted
 * run resumes; `--merge` adds the results of runs in other folders) and the tables to
 * `<out>/ablation.md`, also printed.
 * @module
 */
import { parseArgs } from "node:util";
import { Detector } from "../src/pipeline/detector.ts";
import { evaluateDataset } from "../src/eval/harness.ts";
import { type ImageList, readImageList } from "../src/eval/dataset.ts";
import type { FeatureKind, ReferenceKind, StatsKind } from "../src/design.ts";
import type { FcaParams } from "../src/fca/types.ts";
import { writeFileAtomic } from "../src/base/atomic.ts";

/** One point of the design space to evaluate. */
export interface Combo {
  features: FeatureKind;
  stats: StatsKind;
  reference: ReferenceKind;
  /** Use every `every`-th image of the list (1 = all). */
  every: number;
}

/** Scale settings shared by all combinations. */
export interface ScaleSettings {
  /** Image side for the stride-8 backbone and the evaluation side (paper: 256). */
  size: number;
  /** Image side (= map side) for the stride-1 features. */
  featureSize: number;
  /** The paper's T at `size` (25). */
  paperPatch: number;
}

/** Features in Table 1's column order (the paper's, then this project's default backbone). */
export const TABLE1_FEATURES: readonly FeatureKind[] = ["colors", "random", "laws", "vgg", "onnx"];
/** Statistics in Table 1's row order (the paper's, then Aota et al.'s). */
export const TABLE1_STATS: readonly StatsKind[] = ["moments", "hist", "sww", "fca", "aota"];

/**
 * Every combination of Table 1 (median reference, all images), except aota on the 128 random
 * channels: O((H·W)²·C) makes it ≈5 s per image, so it runs on every 3rd image.
 */
export function table1Combos(): Combo[] {
  return TABLE1_STATS.flatMap((stats) =>
    TABLE1_FEATURES.map((features) => ({
      features,
      stats,
      reference: "median" as const,
      every: stats === "aota" && features === "random" ? 3 : 1,
    }))
  );
}

/**
 * Table 2: FCA with a random reference on VGG and the backbone (SWW too on the backbone); k-NN
 * only on the backbone's 32² maps and on every 4th image (≈10-15 s per image; ≈40 s on VGG's 64²
 * maps), with median and random on the same images for a like-for-like column.
 */
export function table2Combos(): Combo[] {
  const c = (features: FeatureKind, stats: StatsKind, reference: ReferenceKind, every = 1) => ({
    features,
    stats,
    reference,
    every,
  });
  return [
    c("vgg", "fca", "random"),
    c("onnx", "fca", "random"),
    c("onnx", "sww", "random"),
    c("onnx", "fca", "median", 4),
    c("onnx", "fca", "random", 4),
    c("onnx", "fca", "knn", 4),
  ];
}

/** Parse `--combos`: presets `table1`, `table2`, `all`, or `features/stats/reference[/every]`. */
export function parseCombos(spec: string): Combo[] {
  const out: Combo[] = [];
  for (const part of spec.split(",").map((s) => s.trim()).filter((s) => s.length)) {
    if (part === "table1" || part === "all") out.push(...table1Combos());
    if (part === "table2" || part === "all") out.push(...table2Combos());
    if (part === "table1" || part === "table2" || part === "all") continue;
    const [features, stats, reference, every = "1"] = part.split("/");
    const n = Number(every);
    if (!features || !stats || !reference || !Number.isInteger(n) || n < 1) {
      throw new Error(
        `ablation.ts: --combos entry '${part}' is not features/stats/reference[/every]`,
      );
    }
    out.push({
      features: features as FeatureKind,
      stats: stats as StatsKind,
      reference: reference as ReferenceKind,
      every: n,
    });
  }
  const seen = new Set<string>();
  return out.filter((c) => !seen.has(comboKey(c)) && seen.add(comboKey(c)));
}

/** Stable name of a combination: `features/stats/reference/every`. */
export function comboKey(c: Combo): string {
  return `${c.features}/${c.stats}/${c.reference}/${c.every}`;
}

/** Image side fed to the detector and side of the map it gives (stride 8 for the backbone). */
export function mapGeometry(
  features: FeatureKind,
  s: ScaleSettings,
): { imageSize: number; mapSide: number } {
  if (features === "onnx") return { imageSize: s.size, mapSide: Math.ceil(s.size / 8) };
  return { imageSize: s.featureSize, mapSide: s.featureSize };
}

/** The odd T nearest to paperPatch · mapSide / size (ties go up), at least 3. */
export function scaledPatch(paperPatch: number, mapSide: number, size: number): number {
  const t = (paperPatch * mapSide) / size;
  const odd = 2 * Math.floor((t - 1) / 2 + 0.5) + 1;
  return Math.max(3, odd);
}

/** FCA parameters of a combination: T scaled, σ as the authors' configs for `stats`. */
export function comboParams(c: Combo, s: ScaleSettings): FcaParams {
  const { mapSide } = mapGeometry(c.features, s);
  const patch = scaledPatch(s.paperPatch, mapSide, s.size);
  // params.sigmaP is SWW's σ (6 in conf/sc/sww.yaml) and FCA's σp (3); hist, moments and aota
  // carry their own σ (6, 6, 100) and ignore it.
  return { patch, sigmaP: c.stats === "sww" ? 6 : 3, sigmaS: 1 };
}

/** One evaluated combination. */
export interface ComboResult {
  key: string;
  imageSize: number;
  mapSide: number;
  params: FcaParams;
  images: number;
  auPro: number | null;
  pixelAuroc: number | null;
  imageAuroc: number | null;
  /** Detection seconds per image (decode, resize, features, statistics, upsampling). */
  secondsPerImage: number;
  /** Seconds per image in the statistics stage alone. */
  statsSecondsPerImage: number;
  /** Wall seconds of the whole combination, metrics included. */
  wallSeconds: number;
  error?: string;
}

/** "PRO / AUROC" in percent (with the image count when `thinned`), or a dash. */
function cell(r: ComboResult | undefined, withTime = false, thinned = false): string {
  if (!r) return "–";
  if (r.error) return "error";
  const f = (v: number | null) => (v === null ? "n/a" : (100 * v).toFixed(2));
  const t = withTime ? ` / ${r.secondsPerImage.toFixed(2)} s` : "";
  return `${f(r.auPro)} / ${f(r.pixelAuroc)}${t}${thinned ? ` (${r.images} img)` : ""}`;
}

/** The Markdown tables of every result present (Table 1, Table 2, per-combination timings). */
export function renderTables(results: Record<string, ComboResult>, s: ScaleSettings): string {
  const get = (f: FeatureKind, st: StatsKind, r: ReferenceKind, every = 1) =>
    results[comboKey({ features: f, stats: st, reference: r, every })];
  const geo = (f: FeatureKind) => {
    const { mapSide } = mapGeometry(f, s);
    return `${mapSide}², T=${scaledPatch(s.paperPatch, mapSide, s.size)}`;
  };
  const lines: string[] = [];
  lines.push(
    `### Table 1: PRO@0.3 / pixel AUROC (%), median (global) reference`,
    "",
    `| stats \\ features | ${TABLE1_FEATURES.map((f) => `${f} (${geo(f)})`).join(" | ")} |`,
    `|---|${TABLE1_FEATURES.map(() => "---").join("|")}|`,
  );
  for (const st of TABLE1_STATS) {
    // A cell run on a thinned list (slow pairs) is shown with its image count.
    const table1Cell = (f: FeatureKind) => {
      const full = get(f, st, "median");
      if (full) return cell(full);
      const thin = Object.values(results).find((r) => r.key.startsWith(`${f}/${st}/median/`));
      return cell(thin, false, true);
    };
    lines.push(`| ${st} | ${TABLE1_FEATURES.map(table1Cell).join(" | ")} |`);
  }
  // Table 2 covers FCA and SWW on the neural features; Table 1's median runs fill its first row.
  const t2 = Object.values(results).filter((r) => {
    const [f, st] = r.key.split("/");
    return (st === "fca" || st === "sww") && (f === "vgg" || f === "onnx");
  });
  const cols = [
    ...new Set(t2.map((r) => r.key.split("/")).map(([f, st, , e]) => `${f}/${st}/${e}`)),
  ]
    .sort();
  lines.push(
    "",
    `### Table 2: PRO@0.3 / pixel AUROC (%) / detection s per image, by reference`,
    "",
    `| reference \\ features/stats (images) | ${
      cols.map((c) => {
        const [f, st, e] = c.split("/");
        const n = t2.find((r) => r.key.startsWith(`${f}/${st}/`) && r.key.endsWith(`/${e}`));
        return `${f} ${st} (${geo(f as FeatureKind)}, ${n?.images ?? "?"} img)`;
      }).join(" | ")
    } |`,
    `|---|${cols.map(() => "---").join("|")}|`,
  );
  for (const ref of ["median", "random", "knn"] as ReferenceKind[]) {
    lines.push(
      `| ${ref} | ${
        cols.map((c) => {
          const [f, st, e] = c.split("/");
          return cell(get(f as FeatureKind, st as StatsKind, ref, Number(e)), true);
        }).join(" | ")
      } |`,
    );
  }
  lines.push(
    "",
    `### Timings per combination`,
    "",
    `| combination | image side | map side | T | σ | images | s / image | stats s / image | wall s |`,
    `|---|---|---|---|---|---|---|---|---|`,
  );
  let total = 0;
  for (const r of Object.values(results)) {
    total += r.wallSeconds;
    const st = r.key.split("/")[1];
    const sigma = st === "fca"
      ? `σp ${r.params.sigmaP}, σs ${r.params.sigmaS}`
      : st === "sww"
      ? `σ ${r.params.sigmaP}`
      : st === "aota"
      ? "σ 100"
      : "σ 6";
    lines.push(
      `| ${r.key} | ${r.imageSize} | ${r.mapSide} | ${r.params.patch} | ${sigma} | ${r.images} | ${
        r.secondsPerImage.toFixed(2)
      } | ${r.statsSecondsPerImage.toFixed(2)} | ${r.wallSeconds.toFixed(0)} |`,
    );
  }
  lines.push("", `Total wall time: ${(total / 60).toFixed(1)} min.`);
  return lines.join("\n") + "\n";
}

/** Every `every`-th entry of the list. */
function thin(list: ImageList, every: number): ImageList {
  return { ...list, images: list.images.filter((_, i) => i % every === 0) };
}

async function runCombo(
  c: Combo,
  s: ScaleSettings,
  root: string,
  list: ImageList,
  threads?: number,
): Promise<ComboResult> {
  const { imageSize, mapSide } = mapGeometry(c.features, s);
  const params = comboParams(c, s);
  const model = c.features === "vgg"
    ? Deno.env.get("FCA_VGG_MODEL") ?? "../shared/models/vgg19norm-conv1_2.onnx"
    : c.features === "onnx"
    ? Deno.env.get("FCA_MODEL") ?? "../shared/models/resnet50v2-stage2.onnx"
    : undefined;
  const t0 = performance.now();
  let detector: Detector | null = null;
  try {
    const report = await evaluateDataset(
      root,
      async () => (detector = await Detector.create({
        preset: "paper",
        features: c.features,
        stats: c.stats,
        reference: c.reference,
        size: imageSize,
        params,
        model,
        threads,
        backend: "cpu",
      })),
      { list: thin(list, c.every), evalSize: s.size, progress: null },
    );
    const cats = report.categories;
    const images = report.images;
    const detect = cats.reduce((a, r) => a + r.detectSeconds, 0);
    const statsMs = cats.reduce((a, r) => a + (r.stageMs[c.stats] ?? r.stageMs.fca ?? 0), 0);
    return {
      key: comboKey(c),
      imageSize,
      mapSide,
      params,
      images,
      auPro: report.mean.auPro,
      pixelAuroc: report.mean.pixelAuroc,
      imageAuroc: report.mean.imageAuroc,
      secondsPerImage: detect / images,
      statsSecondsPerImage: statsMs / 1000 / images,
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    if (detector) await (detector as Detector).dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      root: { type: "string", default: "../shared/datasets/magnetic_tile" },
      list: { type: "string", default: "../shared/anchors/magnetic_tile_subset.json" },
      out: { type: "string", default: "out/ablation" },
      size: { type: "string", default: "256" },
      "feature-size": { type: "string", default: "64" },
      "paper-patch": { type: "string", default: "25" },
      combos: { type: "string", default: "all" },
      merge: { type: "string" },
      threads: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      "Usage: deno run -A bench/ablation.ts [--root DIR] [--list FILE] [--out DIR] [--size 256]\n" +
        "  [--feature-size 64] [--paper-patch 25] [--combos all|table1|table2|f/s/r[/every],...]\n" +
        "  [--threads N] [--merge a/results.json,b/results.json]\n" +
        "  (see the module notes at the top of bench/ablation.ts)",
    );
    return;
  }
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new Error(`ablation.ts: --${name} must be an integer >= ${min}, got '${v}'`);
    }
    return n;
  };
  const s: ScaleSettings = {
    size: int("size", values.size, 8),
    featureSize: int("feature-size", values["feature-size"], 8),
    paperPatch: int("paper-patch", values["paper-patch"], 1),
  };
  const threads = values.threads === undefined ? undefined : int("threads", values.threads, 1);
  const combos = parseCombos(values.combos!);
  const list = await readImageList(values.list!);
  const out = values.out!;
  await Deno.mkdir(out, { recursive: true });
  const resultsPath = `${out}/results.json`;
  let results: Record<string, ComboResult> = {};
  try {
    results = JSON.parse(await Deno.readTextFile(resultsPath));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  // Results of runs made in other --out folders (e.g. two processes splitting the combinations).
  for (const path of values.merge?.split(",").filter((p) => p.length) ?? []) {
    Object.assign(results, JSON.parse(await Deno.readTextFile(path)));
  }
  const settingsKey = (c: Combo) => JSON.stringify([mapGeometry(c.features, s), comboParams(c, s)]);
  for (const c of combos) {
    const key = comboKey(c);
    const prev = results[key];
    if (
      prev && !prev.error &&
      settingsKey(c) ===
        JSON.stringify([{ imageSize: prev.imageSize, mapSide: prev.mapSide }, prev.params])
    ) {
      console.log(`${key}: done before, skipped`);
      continue;
    }
    const t0 = performance.now();
    try {
      results[key] = await runCombo(c, s, values.root!, list, threads);
    } catch (e) {
      const { imageSize, mapSide } = mapGeometry(c.features, s);
      results[key] = {
        key,
        imageSize,
        mapSide,
        params: comboParams(c, s),
        images: 0,
        auPro: null,
        pixelAuroc: null,
        imageAuroc: null,
        secondsPerImage: 0,
        statsSecondsPerImage: 0,
        wallSeconds: (performance.now() - t0) / 1000,
        error: (e as Error).message,
      };
    }
    const r = results[key];
    console.log(
      `${key}: ${r.error ? `ERROR ${r.error}` : cell(r, true)} (${r.images} images, ${
        r.wallSeconds.toFixed(0)
      } s)`,
    );
    await writeFileAtomic(
      resultsPath,
      new TextEncoder().encode(JSON.stringify(results, null, 1) + "\n"),
    );
  }
  await writeFileAtomic(
    resultsPath,
    new TextEncoder().encode(JSON.stringify(results, null, 1) + "\n"),
  );
  const md = renderTables(results, s);
  await writeFileAtomic(`${out}/ablation.md`, new TextEncoder().encode(md));
  console.log("\n" + md);
}

if (import.meta.main) await main();
