/**
 * `fca eval DATASET_ROOT [options]`: evaluate the detector on a dataset in MVTec AD layout with
 * the paper's metrics; writes metrics.json and plots to --out and prints a Markdown table.
 * @module
 */
import { parseArgs } from "node:util";
import { Detector, type DetectorOptions, detectorSettings } from "../pipeline/detector.ts";
import { mapKeySettings } from "../design.ts";
import { ensureModelPath } from "../features/model_path.ts";
import { resolveVggPath } from "../pipeline/feature_sources.ts";
import { sha256File } from "../features/manifest.ts";
import { writeFileAtomic } from "../base/atomic.ts";
import { evaluateDataset } from "../eval/harness.ts";
import { type ImageList, readImageList } from "../eval/dataset.ts";
import { ProgressBar } from "../base/progress.ts";
import { markdownTable, operatingPointLines, writeReport } from "../eval/report.ts";
import {
  operatingPointHook,
  type OperatingPointMetrics,
  writeImagesJsonl,
} from "../eval/operating_point.ts";
import { loadProfile, profileThreshold } from "../decision/profile.ts";
import { profileSettings } from "./calibrate.ts";
import { listDataset } from "../eval/dataset.ts";
import {
  DECISION_FLAGS,
  DECISION_HELP,
  decisionSettings,
  PIPELINE_FLAGS,
  PIPELINE_HELP,
  toDetectorOptions,
  UsageError,
} from "./options.ts";

/** Help text of the eval command. */
export const EVAL_HELP = `Usage: fca eval DATASET_ROOT [options]
Evaluates on <root>/<category>/test/<defect>/<id>.png with masks in
<root>/<category>/ground_truth/<defect>/<id>_mask.png (MVTec AD layout; good/ has none).
Metrics as the official MVTec AD evaluation computes them: AU-PRO up to FPR 0.3 (normalised),
pixel AUROC, max pixel F1, image AUROC (score = the detector's image score: the map's max, or
its interior max under --score-border).

Options:
  --categories a,b   only these categories (default: all)
  --crop N           remove N pixels at each border before scoring (default 0; the paper uses 8)
  --eval-size N      score maps and masks resized to NxN (masks: any value > 0 is defect)
  --list FILE        only the images of a JSON list (e.g. ../shared/anchors/<set>_subset.json)
  --out DIR          metrics.json, plots/ and maps/ go here (default ./eval-out)
  --save-maps        save maps as DIR/maps/<cat>/<defect>/<id>.npy; a rerun reuses them
${PIPELINE_HELP}
Operating point (also reported: mask F1 and IoU, region recall, verdict precision/recall/accuracy at
each image's zero-shot threshold, and at --threshold or the profile's; one line per image in
DIR/images.jsonl):
${DECISION_HELP}
  --help             show this help`;

/** Run the eval command; resolves to the exit code. */
export async function runEval(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...PIPELINE_FLAGS,
      categories: { type: "string" },
      crop: { type: "string" },
      "eval-size": { type: "string" },
      list: { type: "string" },
      out: { type: "string" },
      "save-maps": { type: "boolean" },
      ...DECISION_FLAGS,
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(EVAL_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `eval takes exactly one DATASET_ROOT, got ${positionals.length} (see eval --help)`,
    );
  }
  const root = positionals[0].replace(/[\\/]+$/, "") || positionals[0];
  const crop = intFlag(values.crop, "crop", 0, 0);
  const evalSize = values["eval-size"] === undefined
    ? undefined
    : intFlag(values["eval-size"], "eval-size", 0, 1);
  const categories = values.categories?.split(",").map((s) => s.trim()).filter((s) => s.length);
  const outDir = values.out ?? "./eval-out";
  const saveMaps = values["save-maps"] ?? false;
  const options = toDetectorOptions(values);
  const decision = decisionSettings(values);
  let list: ImageList | undefined;
  if (values.list !== undefined) list = await readImageList(values.list);
  try {
    await Deno.mkdir(outDir, { recursive: true });
  } catch (e) {
    throw new UsageError(`--out ${outDir}: cannot create the folder (${(e as Error).message})`);
  }

  const mapKey = await savedMapKey(options);
  const settings = {
    categories: categories ?? null,
    crop,
    eval_size: evalSize ?? null,
    list: values.list ?? null,
    ...mapKey,
    backend: options.backend,
  };
  if (saveMaps) await checkSavedMapSettings(outDir, mapKey);

  // Operating points: each image's zero-shot threshold, and a fixed one (--threshold, or the
  // profile's image threshold) when given. Regions are counted at the scored resolution.
  let fixed: { name: "explicit" | "profile"; value: number } | undefined;
  if (decision.threshold !== undefined) fixed = { name: "explicit", value: decision.threshold };
  else if (decision.profile !== undefined) {
    const profile = await loadProfile(
      decision.profile,
      profileSettings(options, decision),
      mapKey.model_sha256 ?? "",
    ).catch((err) => {
      throw new UsageError((err as Error).message);
    });
    fixed = { name: "profile", value: profileThreshold(profile) };
  }
  const hook = operatingPointHook({
    minArea: decision.minArea,
    border: decision.border,
    profileThreshold: fixed?.value,
    fixedSource: fixed?.name,
  });
  const total = [...(await listDataset(root, { categories, list })).values()]
    .reduce((a, v) => a + v.length, 0);
  const progress = new ProgressBar(total);
  let detector: Detector | null = null;
  try {
    const report = await evaluateDataset(
      root,
      async () => (detector = await Detector.create(options, { naming: "flag" })),
      {
        categories,
        list,
        crop,
        evalSize,
        outDir,
        saveMaps,
        progress,
        onSample: hook.onSample,
      },
    );
    const d = detector as Detector | null;
    const operatingPoints: Record<string, OperatingPointMetrics & { threshold?: number }> = {
      "zero-shot": hook.zeroShot.result(),
    };
    if (hook.profile && fixed) {
      operatingPoints[fixed.name] = { ...hook.profile.result(), threshold: fixed.value };
    }
    await writeImagesJsonl(`${outDir}/images.jsonl`, hook.records);
    const files = await writeReport(outDir, report, {
      dataset: root,
      command: ["fca", "eval", ...argv].join(" "),
      settings,
      backend: d?.backend,
      adapter: d?.adapter,
      // Known even when every map was reused and no detector was built.
      modelSha256: d?.modelSha256 || mapKey.model_sha256 || undefined,
      operatingPoints,
    });
    console.log(markdownTable(report));
    console.log("");
    for (const line of operatingPointLines(operatingPoints)) console.log(line);
    console.log(
      `\n${report.images} images in ${report.seconds.toFixed(1)} s; ${
        wroteSummary(outDir, files, report, saveMaps)
      }`,
    );
  } finally {
    if (detector) await (detector as Detector).dispose();
  }
  return 0;
}

/** What a run wrote: `wrote metrics.json, 4 plots (DIR/plots) and 28 maps (DIR/maps) to DIR`. */
export function wroteSummary(
  outDir: string,
  files: string[],
  report: { images: number; categories: { reusedMaps: number }[] },
  saveMaps: boolean,
): string {
  const plots = files.filter((f) => f.endsWith(".svg")).length;
  const reused = report.categories.reduce((a, c) => a + c.reusedMaps, 0);
  const maps = saveMaps ? report.images - reused : 0;
  const parts = [
    "metrics.json",
    `${plots} plot${plots === 1 ? "" : "s"} (${outDir}/plots)`,
  ];
  if (saveMaps) parts.push(`${maps} map${maps === 1 ? "" : "s"} (${outDir}/maps)`);
  const tail = reused > 0 ? `; reused ${reused} saved map${reused === 1 ? "" : "s"}` : "";
  return `wrote ${parts.slice(0, -1).join(", ")} and ${parts.at(-1)} to ${outDir}${tail}`;
}

function intFlag(raw: string | undefined, name: string, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(v) || v < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${raw}'`);
  }
  return v;
}

/**
 * Everything that determines the maps a run computes (every design-table option marked
 * `changesMap`): saved maps are reused only when it matches. The model is identified by the
 * sha256 of the file actually used (`--model`, else `$FCA_MODEL`, else the default), so switching
 * models through the environment cannot reuse stale maps.
 */
export async function savedMapKey(
  options: DetectorOptions,
): Promise<Record<string, unknown> & { model: string | null; model_sha256: string | null }> {
  const settings = detectorSettings(options, "flag");
  const features = settings.features;
  let model: string | null = null, sha: string | null = null;
  if (features === "onnx") model = await ensureModelPath(options.model);
  else if (features === "vgg") model = resolveVggPath(options.model);
  if (model !== null && model !== "default") {
    try {
      sha = await sha256File(model);
    } catch (e) {
      throw new UsageError(`${model}: cannot read the model (${(e as Error).message})`);
    }
  }
  return { ...mapKeySettings(settings), model, model_sha256: sha };
}

/** Saved maps are reused only with the settings that produced them (see {@link savedMapKey}). */
async function checkSavedMapSettings(outDir: string, key: Record<string, unknown>) {
  const path = `${outDir}/maps/settings.json`;
  // The path may differ between runs (relative vs absolute); the file's hash decides.
  const mine = JSON.stringify({ ...key, model: undefined });
  let theirs: string | null = null;
  try {
    theirs = JSON.stringify(JSON.parse(await Deno.readTextFile(path)));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new Error(`${path}: unreadable (${(e as Error).message})`);
    }
  }
  if (theirs !== null && theirs !== mine) {
    throw new UsageError(
      `${path}: saved maps were made with other settings (${theirs}); use another --out`,
    );
  }
  if (theirs === null) {
    await Deno.mkdir(`${outDir}/maps`, { recursive: true });
    await writeFileAtomic(path, new TextEncoder().encode(mine + "\n"));
  }
}
