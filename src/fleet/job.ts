/**
 * Fleet jobs: what `fca submit` enqueues and `fca worker` runs. A job is `{input, out, options}`:
 * an image path and an output folder (absolute, or relative to the worker's `--root`; a worker
 * refuses anything outside its root, symbolic links included) and pipeline options keyed by flag
 * name. Its id is derived from those three, so submitting the same work twice names the same job,
 * and its outputs are named by that id, so a re-run (a job handed to another worker after a crash)
 * writes identical files under identical names.
 * @module
 */
import { createHash } from "node:crypto";
import { isAbsolute, join, normalize, relative, resolve } from "node:path";
import { baseName } from "../base/paths.ts";
import type { OutputPaths } from "../io/outputs.ts";

/** The data of one job. */
export interface JobData {
  /** Image path (absolute, or relative to the worker's root). */
  input: string;
  /** Output folder (absolute, or relative to the worker's root). */
  out: string;
  /** Pipeline options keyed by flag name (`{"patch": "7"}`), checked by the design table. */
  options: Record<string, string>;
}

/** Default queue name. */
export const DEFAULT_QUEUE = "fca";

/** A job refused for good (bad data, a path outside the root): not retried. */
export class JobRefused extends Error {}

/** The id of a job: the input's stem and a hash of the whole job (BullMQ ids may not hold ':'). */
export function jobId(data: JobData): string {
  const stem = baseName(data.input).replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9_-]+/g, "_")
    .slice(0, 40);
  const options = Object.fromEntries(Object.entries(data.options).sort());
  const hash = createHash("sha256").update(JSON.stringify([data.input, data.out, options]))
    .digest("hex").slice(0, 16);
  return `${stem || "image"}-${hash}`;
}

/** The outputs of job `id` in folder `dir`: `<id>.anomaly.png`, `<id>.overlay.png`, `<id>.anomaly.npy`. */
export function jobOutputs(dir: string, id: string): OutputPaths {
  const base = join(dir, id);
  return {
    heatmap: `${base}.anomaly.png`,
    overlay: `${base}.overlay.png`,
    npy: `${base}.anomaly.npy`,
  };
}

/** Check the shape of job data (from Redis: anything). */
export function checkJobData(data: unknown): JobData {
  const d = data as Partial<JobData> | null;
  if (
    !d || typeof d.input !== "string" || typeof d.out !== "string" || d.input === "" ||
    d.out === ""
  ) {
    throw new JobRefused("job data must be {input, out, options} with input and out paths");
  }
  const options = d.options ?? {};
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new JobRefused("job options must be an object keyed by flag name");
  }
  for (const [k, v] of Object.entries(options)) {
    if (typeof v !== "string" && typeof v !== "number") {
      throw new JobRefused(`job option '${k}' must be a string or a number`);
    }
  }
  const strings = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, String(v)]));
  return { input: d.input, out: d.out, options: strings };
}

/** `path` resolved against `root`, refused (lexically) when it leaves `root`. */
export function underRoot(root: string, path: string, what: string): string {
  if (path.includes("\0")) throw new JobRefused(`${what} path contains a NUL byte`);
  const full = normalize(isAbsolute(path) ? path : resolve(root, path));
  if (!inside(root, full)) throw new JobRefused(`${what} ${path} is outside the worker's root`);
  return full;
}

/** The real path of `path` (links followed), refused when it leaves the real `root`. */
export async function realUnderRoot(root: string, path: string, what: string): Promise<string> {
  let real: string;
  try {
    real = await Deno.realPath(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new JobRefused(`${path}: no such file`);
    throw err;
  }
  if (!inside(root, real)) {
    throw new JobRefused(`${what} ${path} leads outside the worker's root`);
  }
  return real;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
