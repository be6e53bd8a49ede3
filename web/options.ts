/**
 * The options of the browser app: the CLI's pipeline options (checked by the same design table,
 * `src/design.ts`, with the same defaults: the default preset) and its decision options
 * (threshold, min-area, border). `fcaDetect` takes them by their library names, the page's
 * address by their flag names (`?size=128&min-area=20`), as `mod.ts serve` does.
 * @module
 */
import {
  checkOption,
  DECISION_OPTIONS,
  OptionError,
  PIPELINE_OPTIONS,
  type PipelineSettings,
  type SettingName,
} from "../src/design.ts";
import { type DetectorOptions, detectorSettings } from "../src/pipeline/detector.ts";

/**
 * Settings that belong to the page, not to a request: the model is the page's (chosen once),
 * the backend is WebGPU and there are no CPU threads to size.
 */
export const PAGE_ONLY: readonly SettingName[] = ["model", "backend", "threads"];

/** Options of `fcaDetect`: the library's detector options and the decision's. */
export type WebDetectOptions =
  & Omit<DetectorOptions, "model" | "backend" | "threads">
  & {
    /** Threshold on the map; default: the zero-shot rule (as the CLI without a profile). */
    threshold?: number;
    /** Regions smaller than this many pixels are dropped (default 16). */
    minArea?: number;
    /** Pixels within this many of the image edge never start a region (default 0). */
    border?: number;
  };

/** Validated options: the pipeline settings (defaults filled in) and the decision's. */
export interface ResolvedOptions {
  settings: PipelineSettings;
  decision: { threshold?: number; minArea: number; border: number };
  /** Identifies the detector that runs `settings` (equal settings, equal key). */
  key: string;
}

const DECISION_NAMES = ["threshold", "minArea", "border"] as const;

/**
 * Check `options` (from `fcaDetect`) with the design table; throws one line naming the option.
 * Unknown names and the page's own settings ({@link PAGE_ONLY}) are refused.
 */
export function resolveOptions(options: WebDetectOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new OptionError("options must be an object");
  }
  const known = new Set<string>([
    ...PIPELINE_OPTIONS.map((o) => o.name),
    "params",
    ...DECISION_NAMES,
  ]);
  const pipeline: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!known.has(name)) throw new OptionError(`unknown option '${name}'`);
    if ((PAGE_ONLY as string[]).includes(name)) {
      throw new OptionError(`option '${name}' belongs to the page, not to a detection`);
    }
    if (!(DECISION_NAMES as readonly string[]).includes(name)) pipeline[name] = value;
  }
  const settings = detectorSettings(pipeline as DetectorOptions, "option");
  const decision: Record<string, number> = {};
  for (const spec of DECISION_OPTIONS) {
    if (spec.name === "profile") continue; // a file: the command line's
    const value = (options as Record<string, unknown>)[spec.name];
    if (value !== undefined) decision[spec.name] = checkOption(spec, value, "option") as number;
    else if (spec.default !== undefined) decision[spec.name] = spec.default as number;
  }
  return {
    settings,
    decision: decision as ResolvedOptions["decision"],
    key: JSON.stringify(settings),
  };
}

/**
 * `fcaDetect` options from the page's address, whose parameters are named as the CLI's flags
 * (`?size=128&patch=7&threshold=0.05&min-area=20`). Throws one line for an unknown parameter.
 */
export function optionsFromQuery(query: URLSearchParams): WebDetectOptions {
  const out: Record<string, unknown> = {};
  for (const [flag, value] of query) {
    const spec = PIPELINE_OPTIONS.find((o) => o.flag === flag) ??
      DECISION_OPTIONS.find((o) => o.flag === flag && o.name !== "profile");
    if (!spec) throw new OptionError(`unknown option '${flag}' in the page's address`);
    if ((PAGE_ONLY as string[]).includes(spec.name)) {
      throw new OptionError(`--${flag} belongs to the command line, not to the page`);
    }
    const numeric = ["int", "number", "size"].includes(spec.kind.type);
    out[spec.name] = numeric ? numberOrWord(value) : value;
  }
  // Checked here, so that a bad address is reported when the page opens.
  resolveOptions(out as WebDetectOptions);
  return out as WebDetectOptions;
}

/** A query value as a number when it reads as one (`auto`, `original` stay words). */
function numberOrWord(value: string): number | string {
  const n = Number(value);
  return value.trim() !== "" && Number.isFinite(n) ? n : value;
}
