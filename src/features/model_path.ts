/**
 * Where the backbone model comes from, in this order: the `model` option (`--model`),
 * `$FCA_MODEL`, the project's `models/` folder (found from this file's URL, so any cwd and
 * `deno compile` work), then the shared data's `models/` folder (`$FCA_SHARED/models`, default
 * `../shared/models` beside the project). When none has it, {@link ensureModelPath} builds it on
 * first use with the same code as `deno task model` (download, sha256 check, atomic save to
 * `models/`). Everything that needs the model (detector, eval, tests) resolves it here.
 * @module
 */
import { splitPath } from "../base/paths.ts";
import type { BuildModelOptions } from "./model_fetch.ts";

/** File name of the default backbone. */
export const DEFAULT_MODEL_FILE = "resnet50v2-stage2.onnx";

/** Environment variable naming a model file. */
export const MODEL_ENV = "FCA_MODEL";

/** Environment variable naming the shared data folder (models/, golden/, datasets/). */
export const SHARED_ENV = "FCA_SHARED";

/** Where to look for a model: an explicit option, an environment value, default locations. */
export interface ModelSearch {
  /** Value of the `model` option (wins when given). */
  option?: string;
  /** Value of the environment variable (`FCA_MODEL`). */
  env?: string;
  /** Name of that variable in messages (default `FCA_MODEL`). */
  envName?: string;
  /** Default locations, tried in order. */
  defaults: string[];
  /** How messages name the option: `--model` (CLI, the default) or `model:` (library). */
  optionName?: string;
}

/** No model in any default location (and none given): {@link ensureModelPath} may build one. */
export class ModelNotFoundError extends Error {
  constructor(message: string, readonly tried: string[]) {
    super(message);
  }
}

/** The project folder (with a trailing slash) when it is on disk; undefined in a binary. */
export function projectDir(): string | undefined {
  const url = new URL("../../", import.meta.url);
  return url.protocol === "file:" ? fromFileUrl(url) : undefined;
}

/** The shared data folder: `$FCA_SHARED`, else `../shared` beside the project (or the cwd). */
export function sharedDir(): string {
  const env = envValue(SHARED_ENV);
  if (env) return env.replace(/\/+$/, "");
  const project = projectDir();
  return project ? `${splitPath(project.replace(/\/$/, "")).dir}shared` : "../shared";
}

/** A model file in the shared data folder (`<shared>/models/<file>`). */
export function sharedModelPath(file = DEFAULT_MODEL_FILE): string {
  return `${sharedDir()}/models/${file}`;
}

/**
 * Default locations of `file`, in order: `<project>/models/`, `models/` next to a compiled
 * binary, then `<shared>/models/`. The first is where a built model is saved.
 */
export function defaultModelLocations(file = DEFAULT_MODEL_FILE): string[] {
  const out: string[] = [];
  const project = projectDir();
  if (project) out.push(`${project}models/${file}`);
  try {
    const exe = Deno.execPath();
    const { dir } = splitPath(exe);
    // Only meaningful for a compiled binary; for `deno run` this is Deno's own folder.
    if (!/^deno(\.exe)?$/i.test(exe.slice(dir.length))) out.push(`${dir}models/${file}`);
  } catch {
    // No --allow-read for the executable path: skip that location.
  }
  out.push(sharedModelPath(file));
  return out;
}

/** The one-line message shown when no model is found anywhere. */
export function noModelMessage(tried: string[], optionName = "--model"): string {
  return `no backbone model found (looked in ${tried.join(", ")}): run \`deno task model\` ` +
    `(needs internet) to create models/${DEFAULT_MODEL_FILE}, or pass ${optionName} PATH ` +
    `or set ${MODEL_ENV}=PATH`;
}

/** Resolve a model path from an explicit search description (see {@link resolveModelPath}). */
export function resolveModelPathWith(search: ModelSearch): string {
  const given = search.option || search.env;
  if (given) {
    if (!isFile(given)) {
      const via = search.option ? search.optionName ?? "--model" : search.envName ?? MODEL_ENV;
      throw new Error(`model file ${given} not found (from ${via.replace(/:$/, "")})`);
    }
    return given;
  }
  for (const p of search.defaults) if (isFile(p)) return p;
  throw new ModelNotFoundError(noModelMessage(search.defaults, search.optionName), search.defaults);
}

/**
 * The backbone model path: `opt` (the `model` option), else `$FCA_MODEL`, else
 * `models/resnet50v2-stage2.onnx` in the project, else `<shared>/models/`. Throws a one-line
 * error when a given path is missing ("model file X not found") or, as a
 * {@link ModelNotFoundError}, when no model exists (saying how to get one).
 */
export function resolveModelPath(opt?: string, optionName?: string): string {
  return resolveModelPathWith({
    option: opt,
    env: envValue(MODEL_ENV),
    defaults: defaultModelLocations(),
    optionName,
  });
}

/** How {@link ensureModelPath} may build a missing model. */
export interface EnsureModelOptions {
  /** Build the model when none is found (default true). */
  download?: boolean;
  /** How messages name the option (`--model`, or `model:` for library callers). */
  optionName?: string;
  /** Overrides for the build (URL, sha256, destination, progress; tests). */
  build?: Partial<BuildModelOptions>;
  /** Status lines (default: stderr). */
  log?: (line: string) => void;
  /** Default locations instead of {@link defaultModelLocations} (tests). */
  defaults?: string[];
}

/**
 * {@link resolveModelPath}, and when no model exists anywhere (and none was named), build it
 * once with the code of `deno task model`: download the zoo model with a progress bar, check
 * its sha256, cut it, save it atomically to `models/`, saying where. Without network the error
 * stays one line.
 */
export async function ensureModelPath(
  opt?: string,
  opts: EnsureModelOptions = {},
): Promise<string> {
  try {
    return resolveModelPathWith({
      option: opt,
      env: envValue(MODEL_ENV),
      defaults: opts.defaults ?? defaultModelLocations(),
      optionName: opts.optionName,
    });
  } catch (err) {
    if (!(err instanceof ModelNotFoundError) || opts.download === false) throw err;
    const log = opts.log ?? ((line: string) => console.error(line));
    const out = opts.build?.out ?? err.tried[0];
    const optionName = opts.optionName ?? "--model";
    log(
      `model: none found (looked in ${err.tried.join(", ")}); building ${out} from the ONNX ` +
        `model zoo's resnet50-v2-7 (about 100 MB download, once)`,
    );
    const { buildModel } = await import("./model_fetch.ts");
    try {
      const built = await buildModel({
        hint: `without internet: pass ${optionName} PATH or set ${MODEL_ENV}=PATH, or run ` +
          "`deno task model --from resnet50-v2-7.onnx` with a copy",
        log: (line) => log(`model: ${line}`),
        ...opts.build,
        out,
      });
      log(`model: saved ${built.path} (sha256 ${built.sha256})`);
      return built.path;
    } catch (e) {
      throw new Error(
        `no backbone model found (looked in ${err.tried.join(", ")}) and building it failed: ` +
          String((e as Error)?.message ?? e).split("\n")[0],
      );
    }
  }
}

function envValue(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function fromFileUrl(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  // Windows file URLs look like /C:/dir/file.
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path;
}
