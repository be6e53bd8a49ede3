/**
 * `fca IMAGE... [options]`: localise anomalies in images and folders, write the outputs, print
 * one JSON line per image.
 * @module
 */
import { parseArgs } from "node:util";
import { type Detection, Detector, type DetectorOptions } from "../pipeline/detector.ts";
import { detectStream, type StreamItem } from "../pipeline/stream.ts";
import { defaultIoWorkers, IoPool } from "../io/io_pool.ts";
import type { DecisionSettings } from "../design.ts";
import { decide, type Decision } from "../decision/decide.ts";
import { loadProfile, type Profile } from "../decision/profile.ts";
import type { ScalarMap } from "../fca/types.ts";
import { expandInputs } from "./inputs.ts";
import { outputsForStem, planOutputStems } from "./output_plan.ts";
import { profileSettings } from "./calibrate.ts";
import {
  DECISION_FLAGS,
  DECISION_HELP,
  decisionSettings,
  PIPELINE_FLAGS,
  PIPELINE_HELP,
  toDetectorOptions,
  UsageError,
} from "./options.ts";

/** Help text of the detect command. */
export const DETECT_HELP = `Usage: fca [detect] IMAGE|DIR... [options]
Writes <stem>.anomaly.png (heatmap), <stem>.overlay.png (regions outlined) and <stem>.anomaly.npy
(float32 map at input size) beside each input or into --out, and prints one JSON line per image
with the threshold, the verdict and the defect regions. Inputs whose names would clash get their
folder mirrored under --out, or their extension kept in the stem; nothing is overwritten twice.

Options:
${PIPELINE_HELP}
Decision:
${DECISION_HELP}
  --mask             also write <stem>.mask.png (0/255 region mask at input size)
Files:
  --out DIR          write outputs into DIR (created if missing)
  --recursive        also take the images in subfolders of the folders given
  --io-workers N     threads that decode inputs and write outputs while the detector runs
                     (default: the cores the detector leaves free, at most 8; 0 = in turn
                     with detection, on the main thread)
  --help             show this help
  --version          show the version`;

/** Run the detect command; resolves to the process exit code. */
export async function runDetect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...PIPELINE_FLAGS,
      ...DECISION_FLAGS,
      out: { type: "string" },
      "io-workers": { type: "string" },
      mask: { type: "boolean" },
      recursive: { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError("no input images given (see --help)");
  const options = toDetectorOptions(values);
  const decision = decisionSettings(values);
  const outDir = values.out;
  // Folders made for --out; removed again if no output lands in them.
  const created = outDir !== undefined ? await ensureWritableDir(outDir) : [];

  const ioWorkers = parseIoWorkers(values["io-workers"]);
  const items = await expandInputs(positionals, { recursive: values.recursive ?? false });
  let failed = 0, written = 0;
  const found: string[] = [];
  for (const item of items) {
    if ("error" in item) {
      console.error(`error: ${naming(item.path, item.error)}`);
      failed++;
    } else found.push(item.path);
  }
  const stems = planOutputStems(found, outDir);
  const work: StreamItem[] = found.map((path, i) => {
    const { mask, ...outputs } = outputsForStem(stems[i]);
    return { path, outputs: values.mask ? { ...outputs, mask } : outputs };
  });
  let detector: Detector;
  try {
    detector = await Detector.create(options, { naming: "flag" });
  } catch (err) {
    await removeEmpty(created);
    throw err;
  }
  let decideMap: (map: ScalarMap) => ReturnType<typeof decide>;
  try {
    decideMap = await decider(detector, options, decision, values);
  } catch (err) {
    await detector.dispose();
    await removeEmpty(created);
    throw err;
  }
  // A single image gains nothing from worker threads but their start-up time; a detector that
  // keeps every core busy gains nothing from them either (the default is then 0).
  const pool = IoPool.create(
    work.length > 1 ? ioWorkers ?? defaultIoWorkers(detector.threads) : 0,
  );
  try {
    for await (const result of detectStream(detector, work, pool, { decide: decideMap })) {
      if ("error" in result) {
        console.error(`error: ${naming(result.path, oneLine(result.error))}`);
        failed++;
        continue;
      }
      written++;
      const ms = result.ms;
      for (const k in ms) ms[k] = Math.round(ms[k] * 100) / 100;
      console.log(JSON.stringify({
        path: result.path,
        ...detectionFields(result, detector),
        outputs: result.outputs,
        ms,
      }));
    }
  } finally {
    pool.dispose();
    await detector.dispose();
    if (written === 0) await removeEmpty(created);
  }
  if (failed > 0) console.error(`${failed} of ${items.length} inputs failed`);
  return failed > 0 ? 1 : 0;
}

/**
 * The decision of every map: an explicit threshold, else the profile's (refused in one line when
 * its settings or model differ from this run's), else the zero-shot rule. Region settings not
 * given on the command line come from the profile.
 */
async function decider(
  detector: Detector,
  options: DetectorOptions,
  decision: DecisionSettings,
  values: Record<string, unknown>,
): Promise<(map: ScalarMap) => ReturnType<typeof decide>> {
  let profile: Profile | undefined;
  if (decision.profile !== undefined) {
    let region = { minArea: decision.minArea, border: decision.border };
    if (values["min-area"] === undefined || values.border === undefined) {
      const text = await Deno.readTextFile(decision.profile).catch(() => "{}");
      const own = (() => {
        try {
          return JSON.parse(text) as { minArea?: number; border?: number };
        } catch {
          return {};
        }
      })();
      region = {
        minArea: values["min-area"] === undefined ? own.minArea ?? region.minArea : region.minArea,
        border: values.border === undefined ? own.border ?? region.border : region.border,
      };
    }
    profile = await loadProfile(
      decision.profile,
      profileSettings(options, region),
      detector.modelSha256,
    ).catch((err) => {
      throw new UsageError(oneLine(err));
    });
    decision = { ...decision, ...region };
  }
  return (map) =>
    decide(map, {
      threshold: decision.threshold,
      profile,
      minArea: decision.minArea,
      border: decision.border,
    });
}

/**
 * The fields of a detection's JSON line between `path` and `outputs`: size, score, the decision,
 * the settings that depend on the image, tiles and what ran. The service answers the same.
 */
export function detectionFields(
  r: {
    width: number;
    height: number;
    score: number;
    tiles?: number;
    used?: Detection["used"];
    decision?: Decision;
  },
  detector: Pick<Detector, "settings" | "backend" | "engine" | "backendReason">,
): Record<string, unknown> {
  return {
    width: r.width,
    height: r.height,
    score: r.score,
    ...r.decision,
    preset: detector.settings.preset,
    ...(r.used ? { working_size: [r.used.width, r.used.height], patch: r.used.patch } : {}),
    // Several scales (--cells 50,80): every scale's working size and patch.
    ...(r.used?.scales
      ? {
        scales: r.used.scales.map((u) => ({ working_size: [u.width, u.height], patch: u.patch })),
      }
      : {}),
    tiles: r.tiles ?? 1,
    backend: detector.backend,
    engine: detector.engine,
    backend_reason: detector.backendReason,
  };
}

function parseIoWorkers(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 64 || text.trim() === "") {
    throw new UsageError(`--io-workers must be an integer in [0, 64], got '${text}'`);
  }
  return n;
}

/** Create `dir` if needed and check it is writable; returns the folders created, deepest first. */
async function ensureWritableDir(dir: string): Promise<string[]> {
  const created: string[] = [];
  for (let d = dir.replace(/\/+$/, ""); d !== "" && d !== "." && !(await exists(d));) {
    created.push(d);
    const up = d.replace(/\/?[^/]*$/, "");
    if (up === d) break;
    d = up;
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = `${dir}/.fca-write-test-${Deno.pid}`;
    await Deno.writeFile(probe, new Uint8Array());
    await Deno.remove(probe);
  } catch (err) {
    await removeEmpty(created);
    throw new UsageError(`--out ${dir}: output folder is not writable (${oneLine(err)})`);
  }
  return created;
}

/** Remove the folders in `dirs` (deepest first) while they are empty. */
async function removeEmpty(dirs: string[]): Promise<void> {
  for (const d of dirs) {
    try {
      await Deno.remove(d);
    } catch {
      return; // not empty (or gone): keep it and its parents
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** `path: message`, unless the message already starts by naming the file. */
function naming(path: string, message: string): string {
  return message.startsWith(`${path}:`) ? message : `${path}: ${message}`;
}

/** The first line of an error's message, without the path the caller already prints. */
export function oneLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split("\n")[0];
}
