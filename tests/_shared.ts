/**
 * Locations of the shared read-only data for tests (env vars, relative to the project root) and
 * comparison helpers.
 * @module
 */
import { readNpy } from "../src/io/npy.ts";
import type { FeatureMap } from "../src/fca/types.ts";
import { MODEL_ENV, sharedDir, sharedModelPath } from "../src/features/model_path.ts";

/** Root of the shared data: `$FCA_SHARED`, else `../shared` beside the project. */
export const SHARED_DIR: string = sharedDir();
/** Golden vectors of the authors' code: `$FCA_GOLDEN`, else `<shared>/golden`. */
export const GOLDEN_DIR: string = Deno.env.get("FCA_GOLDEN") ?? `${SHARED_DIR}/golden`;
/** The default backbone: `$FCA_MODEL`, else `<shared>/models/resnet50v2-stage2.onnx`. */
export const MODEL_PATH: string = Deno.env.get(MODEL_ENV) || sharedModelPath();

/** True when `path` exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether the golden data is present (tests that need it are ignored otherwise). */
export const HAVE_GOLDEN: boolean = exists(`${GOLDEN_DIR}/README.md`);
/** Whether the shared model is present. */
export const HAVE_MODEL: boolean = exists(MODEL_PATH);

function envFlag(name: string): boolean {
  const v = Deno.env.get(name);
  return v !== undefined && v !== "" && v !== "0";
}

/**
 * `FCA_REQUIRE_SHARED=1` (set by `.ci/run`): tests that need the shared data (golden vectors,
 * models) run even when it is missing, and so fail, instead of being ignored.
 */
export const REQUIRE_SHARED: boolean = envFlag("FCA_REQUIRE_SHARED");
/** `FCA_REQUIRE_GPU=1` (set by `.ci/run`): GPU tests run, and so fail, without an adapter. */
export const REQUIRE_GPU: boolean = envFlag("FCA_REQUIRE_GPU");

/**
 * The `ignore:` of a test that needs shared data: true (skip) when any of `present` is false,
 * unless `FCA_REQUIRE_SHARED` is set; then false, so the test runs and fails on what is missing.
 * Use it for every shared-data condition, so that no CI run goes green by skipping.
 */
export function skipWithoutShared(...present: boolean[]): boolean {
  return !present.every(Boolean) && !REQUIRE_SHARED;
}

/** The `ignore:` of a test that needs a WebGPU adapter (see {@link skipWithoutShared}). */
export function skipWithoutGpu(present: boolean): boolean {
  return !present && !REQUIRE_GPU;
}

/** Max |a − b| divided by the range of `expected`. */
export function relativeMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`length ${actual.length} != expected ${expected.length}`);
  }
  let err = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    lo = Math.min(lo, expected[i]);
    hi = Math.max(hi, expected[i]);
  }
  return err / (hi - lo || 1);
}

/** Read a golden `features.npy` ([1,C,H,W]) as a feature map. */
export async function readGoldenFeatures(dir: string): Promise<FeatureMap> {
  const f = await readNpy(`${GOLDEN_DIR}/${dir}/features.npy`);
  return { channels: f.shape[1], height: f.shape[2], width: f.shape[3], data: f.data };
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export { mulberry32 as rng } from "../src/base/rng.ts";

/** Largest value of a (possibly huge) array; `Math.max(...a)` overflows the stack past ~100k. */
export function maxOf(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}
