/**
 * Command-line options shared by `detect` and `eval`: parsing with `node:util` parseArgs and
 * validation into {@link DetectorOptions}, with one-line errors.
 * @module
 */
import { type DetectorOptions, FEATURE_KINDS } from "../pipeline/detector.ts";
import { REFERENCE_KINDS, STATS_KINDS, validateDesign } from "../fca/stats/mod.ts";
import { validateParams } from "../fca/params.ts";

/** parseArgs option descriptors of the pipeline flags. */
export const PIPELINE_FLAGS = {
  patch: { type: "string" },
  "sigma-p": { type: "string" },
  "sigma-s": { type: "string" },
  size: { type: "string" },
  model: { type: "string" },
  backend: { type: "string" },
  threads: { type: "string" },
  features: { type: "string" },
  stats: { type: "string" },
  reference: { type: "string" },
  seed: { type: "string" },
  "knn-k": { type: "string" },
  "knn-stride": { type: "string" },
  tile: { type: "string" },
} as const;

/** Help text of the pipeline flags. */
export const PIPELINE_HELP = `  --patch T          context patch side, odd (default 9)
  --sigma-p S        sigma of the patch weights (default 3)
  --sigma-s S        sigma of the 5x5 blur inside each patch, 0 = off (default 1)
  --size original|N  resize the input to NxN first (default original; 320 = paper's low-res)
  --model PATH       ONNX backbone (default: $FCA_MODEL, then models/resnet50v2-stage2.onnx)
  --backend B        auto|webgpu|cpu (default auto: webgpu on a hardware GPU, else cpu)
  --threads N        CPU threads (default: all cores, at most 8)
  --features F       onnx (default: --model) | vgg | colors | random | laws
  --stats S          fca (default) | sww | hist | moments | aota
  --reference R      median (default) | random | knn
  --seed N           seed of the random reference / random features (default 0)
  --knn-k K          neighbours of the k-NN reference (default 10)
  --knn-stride S     step between k-NN candidate windows (default 1)
  --tile N           process in NxN-pixel tiles, same map, memory per tile (default 0 = only
                     images over 4096x4096 px, 256 MB of features or the GPU's buffer limits)
                     (knn and aota run on the CPU; the rest on either backend)`;

/** A usage error: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Turn parsed pipeline flag values into validated detector options. */
export function toDetectorOptions(values: Record<string, unknown>): DetectorOptions {
  const num = (flag: string, fallback: number): number => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (String(raw).trim() === "" || !Number.isFinite(v)) {
      throw new UsageError(`--${flag} must be a number, got '${raw}'`);
    }
    return v;
  };
  const params = {
    patch: num("patch", 9),
    sigmaP: num("sigma-p", 3),
    sigmaS: num("sigma-s", 1),
  };
  try {
    validateParams(params);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let size: "original" | number = "original";
  const rawSize = values.size as string | undefined;
  if (rawSize !== undefined && rawSize !== "original") {
    size = Number(rawSize);
    if (!Number.isInteger(size) || size < 8 || size > 16384) {
      throw new UsageError(
        `--size must be 'original' or an integer in [8, 16384], got '${rawSize}'`,
      );
    }
  }
  const backend = (values.backend as string | undefined) ?? "auto";
  if (backend !== "auto" && backend !== "webgpu" && backend !== "cpu") {
    throw new UsageError(`--backend must be auto, webgpu or cpu, got '${backend}'`);
  }
  let threads: number | undefined;
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new UsageError(`--threads must be an integer in [1, 64], got '${values.threads}'`);
    }
  }
  const choice = <T extends string>(flag: string, allowed: readonly T[], fallback: T): T => {
    const raw = (values[flag] as string | undefined) ?? fallback;
    if (!allowed.includes(raw as T)) {
      throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}, got '${raw}'`);
    }
    return raw as T;
  };
  const stats = choice("stats", STATS_KINDS, "fca");
  const reference = choice("reference", REFERENCE_KINDS, "median");
  try {
    validateDesign(stats, reference);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const seed = num("seed", 0);
  if (!Number.isInteger(seed) || seed < 0) {
    throw new UsageError(`--seed must be an integer >= 0, got '${values.seed}'`);
  }
  const positive = (flag: string): number | undefined => {
    if (values[flag] === undefined) return undefined;
    const v = num(flag, 0);
    if (!Number.isInteger(v) || v < 1) {
      throw new UsageError(`--${flag} must be an integer >= 1, got '${values[flag]}'`);
    }
    return v;
  };
  return {
    params,
    size,
    backend,
    model: values.model as string | undefined,
    threads,
    tile: parseTile(values.tile),
    features: choice("features", FEATURE_KINDS, "onnx"),
    stats,
    reference,
    seed,
    knnK: positive("knn-k"),
    knnStride: positive("knn-stride"),
  };
}

/** `--tile N`: 0 (automatic) or a tile side of at least 32 pixels. */
function parseTile(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const tile = Number(raw);
  if (
    String(raw).trim() === "" || !Number.isInteger(tile) || (tile !== 0 && tile < 32) ||
    tile > 65536
  ) {
    throw new UsageError(`--tile must be 0 (automatic) or an integer in [32, 65536], got '${raw}'`);
  }
  return tile;
}
