/**
 * The one description of every pipeline option: name, flag, kinds, default, bounds, help line and
 * validation. The CLI flags (`parseArgs` descriptors), both help texts, the detector's option
 * checks and the evaluation's resume key are all derived from {@link PIPELINE_OPTIONS}, so adding
 * an option is one entry here plus its implementation.
 *
 * This module is on the ground floor: it imports nothing, and every layer may import it.
 *
 * @example
 * ```ts
 * import { parsePipelineFlags } from "./design.ts";
 * const s = parsePipelineFlags({ patch: "7", stats: "sww" });
 * console.assert(s.patch === 7 && s.stats === "sww" && s.reference === "median");
 * ```
 * @module
 */

/** Feature extractors F (paper Table 1): the ONNX model, VGG19's first block, or hand-crafted. */
export const FEATURE_KINDS = ["onnx", "vgg", "colors", "random", "laws"] as const;
/** Patch-statistics comparisons S (paper Sec. 3.2). */
export const STATS_KINDS = ["fca", "sww", "hist", "moments", "aota", "qfca"] as const;
/** Reference selections R (paper Sec. 3.3). */
export const REFERENCE_KINDS = ["median", "random", "knn"] as const;
/**
 * Presets: `default`, fca's own settings (scale-aware working size and patch, see
 * docs/ablation.md), and `paper`, the authors' method exactly (the golden data's conventions).
 */
export const PRESET_KINDS = ["default", "paper"] as const;
/** Backends: `auto` picks WebGPU on a hardware adapter and the CPU otherwise. */
export const BACKEND_KINDS = ["auto", "webgpu", "cpu"] as const;

/** A feature extractor. */
export type FeatureKind = typeof FEATURE_KINDS[number];
/** A patch-statistics comparison. */
export type StatsKind = typeof STATS_KINDS[number];
/** A reference selection. */
export type ReferenceKind = typeof REFERENCE_KINDS[number];
/** A backend request. */
export type BackendChoice = typeof BACKEND_KINDS[number];
/** A preset. */
export type PresetKind = typeof PRESET_KINDS[number];
/** The hand-crafted feature extractors (everything but the two neural ones). */
export type HandcraftedKind = Exclude<FeatureKind, "onnx" | "vgg">;

/** The design-space point in use (paper Eq. 1: features × statistics × reference). */
export interface Design {
  features: FeatureKind;
  stats: StatsKind;
  reference: ReferenceKind;
  /** Seed of the random reference and of the random features. */
  seed: number;
  /** k of the k-NN reference (default 10). */
  knnK?: number;
  /** Step between k-NN candidate windows (default 1). */
  knnStride?: number;
  /** Quantization bins B of `qfca` (default {@link DEFAULT_QFCA_BINS}). */
  bins?: number;
  /** QFCA+: keep the first K principal components of the channels before scaling (0 = off). */
  pca?: number;
}

/** Default bins of `--stats qfca` (docs/qfca.md: the measured speed/quality trade-off). */
export const DEFAULT_QFCA_BINS = 8;

/**
 * The scale rule of `--size auto`: enlarge an image (aspect kept, never shrunk) so that the
 * shorter side of its feature map has at least `--cells` cells, with the longer side capped at
 * `maxSide` pixels (cost). See docs/ablation.md for the measurements behind the numbers.
 */
export const SCALE_RULE = { maxSide: 1024 } as const;

/** `--cells` when neither it nor the preset says otherwise (one scale). */
export const SCALE_RULE_MIN_CELLS = 50;

/** Bounds of one `--cells` entry and the most scales one run may average. */
export const CELLS_LIMITS = { min: 4, max: 1024, scales: 4 } as const;

/** The scales of `settings.cells` as numbers, e.g. `[50, 80]` for "50,80". */
export function cellsOf(settings: Pick<PipelineSettings, "cells">): number[] {
  return settings.cells.split(",").map(Number);
}

/** Every pipeline setting, flat, after validation and defaults. */
export interface PipelineSettings extends Design {
  /** The preset whose values fill the options not given. */
  preset: PresetKind;
  /** Context patch side T (odd), or `auto`: from the working feature map's size. */
  patch: number | "auto";
  /** σp of the patch weights. */
  sigmaP: number;
  /** σs of the 5×5 blur inside each patch (0 = off). */
  sigmaS: number;
  /**
   * Resize to N×N first, keep the input's own size, or `auto`: enlarge small images (aspect kept)
   * so that the feature map's shorter side has enough cells.
   */
  size: "original" | "auto" | number;
  /**
   * Feature cells wanted on the shorter side by `size: "auto"`, as a comma-separated increasing
   * list ("50,80"): one working scale per entry, whose maps are averaged ({@link cellsOf}).
   */
  cells: string;
  /** ONNX backbone path (resolved elsewhere when absent). */
  model?: string;
  /** Output of the ONNX model to use (required when it has several and no manifest entry). */
  output?: string;
  backend: BackendChoice;
  /** CPU threads (default: all cores, at most 8). */
  threads?: number;
  /** Tile side in image pixels; 0 = only when needed. */
  tile: number;
  /**
   * Reflect-pad the image by this many pixels (a multiple of the backbone's stride) before the
   * backbone and crop the same border off the features: border cells see mirrored texture
   * instead of the backbone's zero padding. 0 = off.
   */
  pad: number;
  /** The image score ignores this many feature cells along every border (0 = the map's max). */
  scoreBorder: number;
  /**
   * `max`: the image score is the (interior) maximum of the map; `relative`: that maximum divided
   * by the map's median, so that textures whose maps run high everywhere do not outscore defects.
   */
  imageScore: ImageScoreKind;
}

/** Values of `--image-score`. */
export const IMAGE_SCORE_KINDS = ["max", "relative"] as const;
/** How the image score is taken from the map. */
export type ImageScoreKind = typeof IMAGE_SCORE_KINDS[number];

/** The name of a setting. */
export type SettingName = keyof PipelineSettings;

/** How one option is parsed and checked. */
export type OptionKind =
  | { type: "int"; min: number; max: number; odd?: boolean; zeroOk?: boolean; auto?: boolean }
  | { type: "number"; min: number; exclusiveMin?: boolean; max?: number; exclusiveMax?: boolean }
  | { type: "choice"; choices: readonly string[] }
  | { type: "size" }
  | { type: "cells" }
  | { type: "path" }
  | { type: "text" };

/** One entry of the design table. */
export interface OptionSpec<N extends string = SettingName> {
  /** Key in {@link PipelineSettings} (or {@link DecisionSettings}). */
  name: N;
  /** Command-line flag without the dashes. */
  flag: string;
  /** Placeholder in the help text. */
  arg: string;
  kind: OptionKind;
  /** Default value (`undefined`: resolved at run time, e.g. cores or the model path). */
  default: string | number | undefined;
  /** Help line (the default is appended from `default` or `defaultText`). */
  help: string;
  /** Shown as the default in help when `default` is undefined. */
  defaultText?: string;
  /** True when the option changes the map (it is part of the evaluation's resume key). */
  changesMap: boolean;
  /** Further help lines, indented under the first. */
  more?: string[];
}

/** The table: one entry per pipeline option, in help order. */
export const PIPELINE_OPTIONS: readonly OptionSpec[] = [
  {
    name: "preset",
    flag: "preset",
    arg: "P",
    kind: { type: "choice", choices: PRESET_KINDS },
    default: "default",
    help: "default (fca's, docs/ablation.md) | paper (the authors' method exactly)",
    changesMap: true,
  },
  {
    name: "patch",
    flag: "patch",
    arg: "T|auto",
    kind: { type: "int", min: 1, max: 255, odd: true, auto: true },
    default: 9,
    help: "context patch side, odd; auto: from the feature map's shorter side",
    changesMap: true,
  },
  {
    name: "sigmaP",
    flag: "sigma-p",
    arg: "S",
    kind: { type: "number", min: 0, exclusiveMin: true },
    default: 3,
    help: "sigma of the patch weights",
    changesMap: true,
  },
  {
    name: "sigmaS",
    flag: "sigma-s",
    arg: "S",
    kind: { type: "number", min: 0 },
    default: 1,
    help: "sigma of the 5x5 blur inside each patch, 0 = off",
    changesMap: true,
  },
  {
    name: "size",
    flag: "size",
    arg: "original|auto|N",
    kind: { type: "size" },
    default: "original",
    help: "resize to NxN first (320 = paper's low-res); auto: enlarge small images",
    changesMap: true,
  },
  {
    name: "cells",
    flag: "cells",
    arg: "N[,N]",
    kind: { type: "cells" },
    default: String(SCALE_RULE_MIN_CELLS),
    help: "--size auto: feature cells on the shorter side; a list averages the maps of each scale",
    changesMap: true,
  },
  {
    name: "model",
    flag: "model",
    arg: "PATH",
    kind: { type: "path" },
    default: undefined,
    defaultText: "$FCA_MODEL, models/, $FCA_SHARED/models, or built",
    help: "ONNX backbone",
    changesMap: true,
  },
  {
    name: "output",
    flag: "output",
    arg: "NAME",
    kind: { type: "text" },
    default: undefined,
    defaultText: "the manifest's or the only one",
    help: "output of the ONNX model to use",
    changesMap: true,
  },
  {
    name: "backend",
    flag: "backend",
    arg: "B",
    kind: { type: "choice", choices: BACKEND_KINDS },
    default: "auto",
    help: "auto|webgpu|cpu (auto: webgpu on a hardware GPU, else cpu)",
    changesMap: false,
  },
  {
    name: "threads",
    flag: "threads",
    arg: "N",
    kind: { type: "int", min: 1, max: 64 },
    default: undefined,
    defaultText: "all cores, at most 8",
    help: "CPU threads",
    changesMap: false,
  },
  {
    name: "features",
    flag: "features",
    arg: "F",
    kind: { type: "choice", choices: FEATURE_KINDS },
    default: "onnx",
    help: "onnx (--model) | vgg | colors | random | laws",
    changesMap: true,
  },
  {
    name: "stats",
    flag: "stats",
    arg: "S",
    kind: { type: "choice", choices: STATS_KINDS },
    default: "fca",
    help: "fca | sww | hist | moments | aota | qfca",
    changesMap: true,
  },
  {
    name: "reference",
    flag: "reference",
    arg: "R",
    kind: { type: "choice", choices: REFERENCE_KINDS },
    default: "median",
    help: "median | random | knn",
    changesMap: true,
  },
  {
    name: "seed",
    flag: "seed",
    arg: "N",
    kind: { type: "int", min: 0, max: Number.MAX_SAFE_INTEGER },
    default: 0,
    help: "seed of the random reference / random features",
    changesMap: true,
  },
  {
    name: "knnK",
    flag: "knn-k",
    arg: "K",
    kind: { type: "int", min: 1, max: 1_000_000 },
    default: undefined,
    defaultText: "10",
    help: "neighbours of the k-NN reference",
    changesMap: true,
  },
  {
    name: "knnStride",
    flag: "knn-stride",
    arg: "S",
    kind: { type: "int", min: 1, max: 1_000_000 },
    default: undefined,
    defaultText: "1",
    help: "step between k-NN candidate windows",
    changesMap: true,
  },
  {
    name: "pad",
    flag: "pad",
    arg: "N",
    kind: { type: "int", min: 0, max: 256 },
    default: 0,
    help: "reflect-pad N px before the backbone, crop them off the features (multiple of stride)",
    changesMap: true,
  },
  {
    name: "scoreBorder",
    flag: "score-border",
    arg: "N",
    kind: { type: "int", min: 0, max: 1024 },
    default: 0,
    help:
      "the image score ignores N feature cells (of the first scale) along each border (0 = max)",
    changesMap: true,
  },
  {
    name: "imageScore",
    flag: "image-score",
    arg: "S",
    kind: { type: "choice", choices: IMAGE_SCORE_KINDS },
    default: "max",
    help: "max: the map's (interior) max | relative: that max over the map's median",
    changesMap: true,
  },
  {
    name: "bins",
    flag: "bins",
    arg: "B",
    kind: { type: "int", min: 2, max: 256 },
    default: undefined,
    defaultText: String(DEFAULT_QFCA_BINS),
    help: "quantization bins of --stats qfca (docs/qfca.md)",
    changesMap: true,
  },
  {
    name: "pca",
    flag: "pca",
    arg: "K",
    kind: { type: "int", min: 1, max: 4096, zeroOk: true },
    default: 0,
    help: "QFCA+: per-image PCA of the channels to K before scaling, any --stats (0 = off)",
    changesMap: true,
  },
  {
    name: "tile",
    flag: "tile",
    arg: "N",
    kind: { type: "int", min: 32, max: 65536, zeroOk: true },
    default: 0,
    help: "process in NxN-pixel tiles: same map, less memory (0 = tile only images",
    more: [
      "over 4096x4096 px, 256 MB of features or the GPU limits; not for --stats",
      "aota or --reference knn, which compare every window with all others)",
    ],
    changesMap: false,
  },
];

/**
 * What each preset sets; the table's defaults (the paper's values) fill the rest, and options
 * given explicitly win over both.
 */
export const PRESETS: Readonly<Record<PresetKind, Partial<Record<SettingName, string | number>>>> =
  {
    default: {
      size: "auto",
      cells: "50,80",
      patch: 3,
      pad: 16,
      scoreBorder: 4,
      imageScore: "relative",
    },
    paper: {},
  };

/** Largest `--size`. */
export const MAX_SIZE = 16384;

/** `parseArgs` option descriptors of every pipeline flag (all take a string value). */
export const PIPELINE_FLAGS: Record<string, { type: "string" }> = Object.fromEntries(
  PIPELINE_OPTIONS.map((o) => [o.flag, { type: "string" as const }]),
);

/** The help lines of the pipeline flags, aligned, for both the detect and the eval help. */
export const PIPELINE_HELP: string = PIPELINE_OPTIONS.map(helpLines).join("\n");

function helpLines(o: OptionSpec<string>): string {
  // A flag too long for the column gets its help on the next line.
  const flag = `  --${o.flag} ${o.arg}`;
  const head = flag.length < 21 ? flag.padEnd(21) : `${flag}\n${" ".repeat(21)}`;
  // The default preset's value first (what runs unless told otherwise), then the paper's.
  const preset = PRESETS.default[o.name as SettingName];
  const def = preset !== undefined && preset !== o.default
    ? `${preset}; paper: ${o.default}`
    : o.default ?? o.defaultText;
  const tail = def === undefined ? "" : ` (default ${def})`;
  const lines = [`${head}${o.help}${o.more ? "" : tail}`];
  const more = o.more ?? [];
  more.forEach((m, i) => lines.push(`${" ".repeat(21)}${m}${i === more.length - 1 ? tail : ""}`));
  return lines.join("\n");
}

/** A bad option value; the message is one line naming the flag. */
export class OptionError extends Error {}

/** How messages name an option: `--sigma-p` (CLI flags) or `params.sigmaP` (library options). */
export type OptionNaming = "flag" | "option";

/** The name of an option in messages (see {@link OptionNaming}). */
export function optionLabel(spec: OptionSpec<string>, naming: OptionNaming = "flag"): string {
  if (naming === "flag") return `--${spec.flag}`;
  return ["patch", "sigmaP", "sigmaS"].includes(spec.name) ? `params.${spec.name}` : spec.name;
}

/** The entry of `name`. */
export function optionSpec(name: SettingName): OptionSpec {
  const spec = PIPELINE_OPTIONS.find((o) => o.name === name);
  if (!spec) throw new Error(`design.ts: no option named ${name}`);
  return spec;
}

/**
 * Check one value against its entry and return it in its typed form. `raw` is a flag's string or
 * a library caller's value; throws an {@link OptionError} naming the flag.
 */
export function checkOption(
  spec: OptionSpec<string>,
  raw: unknown,
  naming: OptionNaming = "flag",
): string | number {
  const flag = optionLabel(spec, naming);
  const k = spec.kind;
  switch (k.type) {
    case "choice": {
      if (typeof raw !== "string" || !k.choices.includes(raw)) {
        const list = spec.name === "backend"
          ? "auto, webgpu or cpu"
          : `one of ${k.choices.join(", ")}`;
        throw new OptionError(`${flag} must be ${list}, got '${raw}'`);
      }
      return raw;
    }
    case "path":
      if (typeof raw !== "string" || raw.length === 0) {
        throw new OptionError(`${flag} must be a path, got '${raw}'`);
      }
      return raw;
    case "text":
      if (typeof raw !== "string" || raw.length === 0) {
        throw new OptionError(`${flag} must be a name, got '${raw}'`);
      }
      return raw;
    case "size": {
      if (raw === "original" || raw === "auto") return raw;
      const v = toNumber(raw);
      if (!Number.isInteger(v) || v < 8 || v > MAX_SIZE) {
        throw new OptionError(
          `${flag} must be 'original', 'auto' or an integer in [8, ${MAX_SIZE}], got '${raw}'`,
        );
      }
      return v;
    }
    case "cells": {
      const parts = (typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw : "")
        .split(",").map((p) => p.trim());
      const v = parts.map(Number);
      const { min, max, scales } = CELLS_LIMITS;
      const ok = v.length >= 1 && v.length <= scales &&
        v.every((n, i) => Number.isInteger(n) && n >= min && n <= max && (i === 0 || n > v[i - 1]));
      if (!ok || parts.some((p) => p === "")) {
        throw new OptionError(
          `${flag} must be 1 to ${scales} increasing integers in [${min}, ${max}], comma-separated (e.g. 50,80), got '${raw}'`,
        );
      }
      return v.join(",");
    }
    case "number": {
      const v = toNumber(raw);
      if (!Number.isFinite(v)) throw new OptionError(`${flag} must be a number, got '${raw}'`);
      if (k.max !== undefined && (k.exclusiveMax ? v >= k.max : v > k.max)) {
        throw new OptionError(
          `${flag} must be a number in ${k.exclusiveMin ? "(" : "["}${k.min}, ${k.max}${
            k.exclusiveMax ? ")" : "]"
          }, got '${raw}'`,
        );
      }
      if (k.exclusiveMin ? v <= k.min : v < k.min) {
        throw new OptionError(
          k.exclusiveMin
            ? `${flag} must be a positive number, got ${v}`
            : `${flag} must be a number >= ${k.min}${
              spec.name === "sigmaS" ? " (0 turns the blur off)" : ""
            }, got ${v}`,
        );
      }
      return v;
    }
    case "int": {
      if (k.auto && raw === "auto") return raw;
      const v = toNumber(raw);
      if (k.odd) {
        if (!Number.isInteger(v) || v < k.min || v % 2 === 0 || v > k.max) {
          throw new OptionError(
            `${flag} must be an odd integer >= ${k.min}${k.auto ? " or 'auto'" : ""}, got ${raw}`,
          );
        }
        return v;
      }
      const ok = Number.isInteger(v) && ((k.zeroOk && v === 0) || (v >= k.min && v <= k.max));
      if (!ok) {
        const range = k.max >= Number.MAX_SAFE_INTEGER
          ? `an integer >= ${k.min}`
          : k.zeroOk
          ? `0 (automatic) or an integer in [${k.min}, ${k.max}]`
          : k.max >= 1_000_000
          ? `an integer >= ${k.min}`
          : `an integer in [${k.min}, ${k.max}]`;
        throw new OptionError(`${flag} must be ${range}, got '${raw}'`);
      }
      return v;
    }
  }
}

function toNumber(raw: unknown): number {
  if (typeof raw === "number") return raw;
  if (typeof raw !== "string" || raw.trim() === "") return NaN;
  return Number(raw);
}

/**
 * Settings from a record keyed by setting name (library callers; absent = default), every value
 * checked by the table and the design combination checked by {@link checkDesign}.
 */
export function resolveSettings(
  given: Partial<Record<SettingName, unknown>>,
  naming: OptionNaming = "flag",
): PipelineSettings {
  const preset = checkOption(optionSpec("preset"), given.preset ?? "default", naming) as PresetKind;
  const out: Record<string, unknown> = {};
  for (const spec of PIPELINE_OPTIONS) {
    const raw = given[spec.name] ?? PRESETS[preset][spec.name];
    if (raw === undefined) {
      if (spec.default !== undefined) out[spec.name] = spec.default;
      continue;
    }
    out[spec.name] = checkOption(spec, raw, naming);
  }
  const settings = out as unknown as PipelineSettings;
  checkDesign(settings.stats, settings.reference);
  return settings;
}

/** Settings from `parseArgs` values keyed by flag (the CLI). */
export function parsePipelineFlags(values: Record<string, unknown>): PipelineSettings {
  const byName: Partial<Record<SettingName, unknown>> = {};
  for (const spec of PIPELINE_OPTIONS) byName[spec.name] = values[spec.flag];
  const settings = resolveSettings(byName);
  // Scales are working sizes of the scale rule: a fixed size has no scales to choose. (Checked
  // on flags only: library callers may pass resolved settings, cells included, with any size.)
  if (byName.cells !== undefined && settings.size !== "auto") {
    throw new OptionError(
      `--cells sets the scales of --size auto; it does not apply with --size ${settings.size}`,
    );
  }
  return settings;
}

/** Throw a one-line error unless `stats` and `reference` can be combined. */
export function checkDesign(stats: StatsKind, reference: ReferenceKind): void {
  checkOption(optionSpec("stats"), stats);
  checkOption(optionSpec("reference"), reference);
  if (stats === "qfca" && reference !== "median") {
    throw new OptionError(
      `--stats qfca takes only --reference median (its quantized median reference), got '${reference}'`,
    );
  }
  const ok = stats === "fca" || stats === "sww" || reference === "median" ||
    (stats === "aota" && reference === "knn");
  if (!ok) {
    throw new OptionError(
      `--stats ${stats} compares with global statistics and does not take --reference ${reference} (only fca and sww do)`,
    );
  }
}

/** Why a design cannot be tiled, or undefined when it can (see the tiler). */
export function untileableReason(
  design: Pick<Design, "stats" | "reference"> & { pca?: number },
): string | undefined {
  if (design.pca) {
    return "--pca projects on the whole image's principal components and cannot be tiled";
  }
  if (design.reference === "knn") {
    return "--reference knn compares every window with all others and cannot be tiled";
  }
  if (design.stats === "aota") {
    return "--stats aota compares every pixel with all others and cannot be tiled";
  }
  return undefined;
}

/** True for the design points the WebGPU backend runs (everything but k-NN, aota and --pca). */
export function runsOnGpu(design: Pick<Design, "stats" | "reference"> & { pca?: number }): boolean {
  return design.reference !== "knn" && design.stats !== "aota" && !design.pca;
}

/**
 * The settings that determine a map, for the evaluation's resume key: every option whose entry
 * says `changesMap`, with defaults filled in, keyed by setting name.
 */
export function mapKeySettings(settings: PipelineSettings): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const spec of PIPELINE_OPTIONS) {
    if (!spec.changesMap || spec.name === "model") continue;
    // QFCA's options (issue 12) enter the key only where they act, so that maps saved before
    // they existed keep their key: bins with --stats qfca (default filled in), pca when on.
    if (spec.name === "bins" && settings.stats !== "qfca") continue;
    if (spec.name === "pca" && !settings.pca) continue;
    // Likewise the steps of the default preset (issue 11) where they are off, and the preset
    // itself (its effect is in the resolved values): `--preset paper` keeps the old key.
    if (spec.name === "preset") continue;
    if ((spec.name === "pad" || spec.name === "scoreBorder") && !settings[spec.name]) continue;
    if (spec.name === "imageScore" && settings.imageScore === "max") continue;
    if (spec.name === "output" && settings.output === undefined) continue;
    // The scales act only with --size auto.
    if (spec.name === "cells" && settings.size !== "auto") continue;
    key[spec.name] = spec.name === "bins"
      ? settings.bins ?? DEFAULT_QFCA_BINS
      : settings[spec.name] ?? null;
  }
  return key;
}

/** How a map becomes a decision (threshold, regions, verdict), after validation and defaults. */
export interface DecisionSettings {
  /** Explicit threshold on the map; wins over a profile and the zero-shot rule. */
  threshold?: number;
  /** Calibration profile file (`fca calibrate`). */
  profile?: string;
  /** Regions smaller than this many pixels are dropped. */
  minArea: number;
  /** Pixels within this many of the image edge never start a region. */
  border: number;
}

/** The decision options, in help order (same checks and help as the pipeline options). */
export const DECISION_OPTIONS: readonly OptionSpec<keyof DecisionSettings>[] = [
  {
    name: "threshold",
    flag: "threshold",
    arg: "X",
    kind: { type: "number", min: -Infinity },
    default: undefined,
    defaultText: "a profile's, else zero-shot",
    help: "threshold on the map",
    changesMap: false,
  },
  {
    name: "profile",
    flag: "profile",
    arg: "FILE",
    kind: { type: "path" },
    default: undefined,
    help: "calibration profile from 'fca calibrate' (same settings and model)",
    changesMap: false,
  },
  {
    name: "minArea",
    flag: "min-area",
    arg: "N",
    kind: { type: "int", min: 1, max: 1_000_000_000 },
    default: 16,
    help: "regions smaller than N pixels are dropped",
    changesMap: false,
  },
  {
    name: "border",
    flag: "border",
    arg: "N",
    kind: { type: "int", min: 0, max: 1_000_000 },
    default: 0,
    help: "pixels within N of the image edge never start a region",
    changesMap: false,
  },
];

/** The default of a decision option (the table's). */
export function optionDefault(name: keyof DecisionSettings): number {
  return DECISION_OPTIONS.find((o) => o.name === name)!.default as number;
}

/** `parseArgs` descriptors of the decision flags. */
export const DECISION_FLAGS: Record<string, { type: "string" }> = Object.fromEntries(
  DECISION_OPTIONS.map((o) => [o.flag, { type: "string" as const }]),
);

/** Help lines of the decision flags. */
export const DECISION_HELP: string = DECISION_OPTIONS.map(helpLines).join("\n");

/** Decision settings from `parseArgs` values (or query parameters) keyed by flag. */
export function parseDecisionFlags(values: Record<string, unknown>): DecisionSettings {
  const out: Record<string, unknown> = {};
  for (const spec of DECISION_OPTIONS) {
    const raw = values[spec.flag];
    if (raw === undefined) {
      if (spec.default !== undefined) out[spec.name] = spec.default;
    } else out[spec.name] = checkOption(spec, raw);
  }
  return out as unknown as DecisionSettings;
}
