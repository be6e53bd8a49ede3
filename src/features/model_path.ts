/**
 * Where the backbone model comes from: `--model`, then `FCA_MODEL`, then the project's
 * `models/` folder (found from this file's URL, so any cwd and `deno compile` work).
 * @module
 */
import { splitPath } from "../base/paths.ts";

/** File name of the default backbone. */
export const DEFAULT_MODEL_FILE = "resnet50v2-stage2.onnx";

/** Environment variable naming a model file. */
export const MODEL_ENV = "FCA_MODEL";

/** Where to look for a model: an explicit option, an environment value, default locations. */
export interface ModelSearch {
  /** Value of `--model` (wins when given). */
  option?: string;
  /** Value of the `FCA_MODEL` environment variable. */
  env?: string;
  /** Default locations, tried in order. */
  defaults: string[];
}

/** Default locations: `<project>/models/<file>`, then `models/<file>` next to the executable. */
export function defaultModelLocations(): string[] {
  const out: string[] = [];
  const here = new URL(`../../models/${DEFAULT_MODEL_FILE}`, import.meta.url);
  if (here.protocol === "file:") out.push(fromFileUrl(here));
  try {
    const exe = Deno.execPath();
    const { dir } = splitPath(exe);
    // Only meaningful for a compiled binary; for `deno run` this is Deno's own folder.
    if (!/^deno(\.exe)?$/i.test(exe.slice(dir.length))) {
      out.push(`${dir}models/${DEFAULT_MODEL_FILE}`);
    }
  } catch {
    // No --allow-read for the executable path: skip that location.
  }
  return out;
}

/** The one-line message shown when no model is found anywhere. */
export function noModelMessage(tried: string[]): string {
  return `no backbone model found (looked in ${tried.join(", ")}): run \`deno task model\` ` +
    `(needs internet) to create models/${DEFAULT_MODEL_FILE}, or pass --model PATH ` +
    `or set ${MODEL_ENV}=PATH`;
}

/** Resolve a model path from an explicit search description (see {@link resolveModelPath}). */
export function resolveModelPathWith(search: ModelSearch): string {
  const given = search.option || search.env;
  if (given) {
    if (!isFile(given)) {
      const via = search.option ? "--model" : MODEL_ENV;
      throw new Error(`model file ${given} not found (from ${via})`);
    }
    return given;
  }
  for (const p of search.defaults) if (isFile(p)) return p;
  throw new Error(noModelMessage(search.defaults));
}

/**
 * The backbone model path: `opt` (the `--model` value), else `$FCA_MODEL`, else
 * `models/resnet50v2-stage2.onnx` in the project. Throws a one-line error when a given path is
 * missing ("model file X not found") or when no model exists (saying how to get one).
 */
export function resolveModelPath(opt?: string): string {
  let env: string | undefined;
  try {
    env = Deno.env.get(MODEL_ENV);
  } catch {
    env = undefined; // no --allow-env: behave as if unset
  }
  return resolveModelPathWith({ option: opt, env, defaults: defaultModelLocations() });
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
