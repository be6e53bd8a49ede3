/**
 * The paper's design space on the CPU (Eq. 1: features × statistics × reference): one entry point
 * that picks the patch-statistics comparison and the reference selection.
 *
 * | stats   | median                 | random               | knn                       |
 * |---------|------------------------|----------------------|---------------------------|
 * | fca     | Eq. 6, median ref      | Eq. 6, one tile      | Eq. 6, k nearest windows  |
 * | sww     | Eq. 4, median ref      | Eq. 4, one tile      | Eq. 4, k nearest windows  |
 * | hist    | Eq. 3 vs spatial mean  | –                    | –                         |
 * | moments | Eq. 2 vs spatial mean  | –                    | –                         |
 * | aota    | –                      | –                    | built-in k = 400 (pixels) |
 *
 * hist and moments compare with the global (spatial-mean) statistics, which the reference code
 * uses for them and which `median` selects here; aota carries its own k-NN, selected by `knn`
 * (or `median`, the default, for convenience). Other pairs throw.
 * @module
 */
import { medianReference } from "../median_reference.ts";
import { validateParams } from "../params.ts";
import { fcaMapReference } from "../rank_matching.ts";
import { knnFcaMap, knnSwwMap, randomReference } from "../references.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../types.ts";
import { aotaMap } from "./aota.ts";
import { histMap } from "./hist.ts";
import { momentsMap } from "./moments.ts";
import { swwMap } from "./sww.ts";

export { aotaMap, aotaPostprocess, meanOfSmallest } from "./aota.ts";
export type { AotaOptions } from "./aota.ts";
export { gaussianBlurPlanes } from "./blur.ts";
export { binIndices, histMap } from "./hist.ts";
export type { HistOptions } from "./hist.ts";
export { momentsMap } from "./moments.ts";
export type { MomentsOptions } from "./moments.ts";
export { swwMap, swwWindowLoss } from "./sww.ts";
export type { TieOrder } from "./sww.ts";
export { torchSortOrder } from "./torch_sort.ts";
export {
  DEFAULT_KNN_K,
  forEachKnnWindow,
  knnFcaMap,
  knnSwwMap,
  randomReference,
} from "../references.ts";
export type { KnnOptions } from "../references.ts";

/** Patch-statistics comparison S (paper Sec. 3.2). */
export type StatsKind = "fca" | "sww" | "hist" | "moments" | "aota";
/** Reference selection R (paper Sec. 3.3). */
export type ReferenceKind = "median" | "random" | "knn";

/** Every statistics choice, for CLI validation. */
export const STATS_KINDS: readonly StatsKind[] = ["fca", "sww", "hist", "moments", "aota"];
/** Every reference choice, for CLI validation. */
export const REFERENCE_KINDS: readonly ReferenceKind[] = ["median", "random", "knn"];

/** One point of the design space. */
export interface DesignOptions {
  /** Patch statistics comparison. */
  stats: StatsKind;
  /** Reference selection. */
  reference: ReferenceKind;
  /** T (all methods), σp (FCA's weights, SWW's σ), σs (FCA only). */
  params: FcaParams;
  /** Seed of the random reference. */
  seed: number;
  /** k of the k-NN reference (default {@link DEFAULT_KNN_K}; aota's own k stays 400). */
  knnK?: number;
  /** Step between k-NN candidate windows (default 1); larger is faster and coarser. */
  knnStride?: number;
}

/** Throw a one-line error unless `stats` and `reference` can be combined. */
export function validateDesign(stats: StatsKind, reference: ReferenceKind): void {
  if (!STATS_KINDS.includes(stats)) {
    throw new Error(`--stats must be one of ${STATS_KINDS.join(", ")}, got '${stats}'`);
  }
  if (!REFERENCE_KINDS.includes(reference)) {
    throw new Error(`--reference must be one of ${REFERENCE_KINDS.join(", ")}, got '${reference}'`);
  }
  const ok = stats === "fca" || stats === "sww" || reference === "median" ||
    (stats === "aota" && reference === "knn");
  if (!ok) {
    throw new Error(
      `--stats ${stats} compares with global statistics and does not take --reference ${reference} (only fca and sww do)`,
    );
  }
}

/**
 * Anomaly map at feature resolution from min-max-scaled features. For stats "fca" + reference
 * "median" it equals fcaMapReference(features, medianReference(...)).
 */
export function anomalyMapCpu(features: FeatureMap, opts: DesignOptions): ScalarMap {
  validateParams(opts.params);
  validateDesign(opts.stats, opts.reference);
  const { params } = opts;
  const T = params.patch;
  const knn = { k: opts.knnK, stride: opts.knnStride };
  switch (opts.stats) {
    case "fca":
    case "sww": {
      if (opts.reference === "knn") {
        return opts.stats === "fca"
          ? knnFcaMap(features, params, knn)
          : knnSwwMap(features, T, params.sigmaP, knn);
      }
      const ref = opts.reference === "random"
        ? randomReference(features, T, opts.seed)
        : medianReference(features, T);
      return opts.stats === "fca"
        ? fcaMapReference(features, ref, params)
        : swwMap(features, ref, T, params.sigmaP);
    }
    case "hist":
      return histMap(features, T);
    case "moments":
      return momentsMap(features, T);
    case "aota":
      return aotaMap(features, T);
  }
}
