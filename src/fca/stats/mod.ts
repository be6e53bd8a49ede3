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
import { checkDesign, DEFAULT_QFCA_BINS, type Design } from "../../design.ts";
import { medianReference } from "../median_reference.ts";
import { qfcaMap } from "../qfca.ts";
import { validateParams } from "../params.ts";
import { fcaMapReference } from "../rank_matching.ts";
import { knnFcaMap, knnSwwMap, randomReference } from "../references.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../types.ts";
import { aotaMap } from "./aota.ts";
import { histMap } from "./hist.ts";
import { momentsMap } from "./moments.ts";
import { swwMap } from "./sww.ts";

export { channelRanges, spatialMeanMap } from "./spatial_mean.ts";
export type { SpatialMeanStatistic } from "./spatial_mean.ts";
export { aotaMap, aotaPostprocess, meanOfSmallest } from "./aota.ts";
export type { AotaOptions } from "./aota.ts";
export { gaussianBlurPlanes } from "./blur.ts";
export { binIndices, histMap, histStatistic } from "./hist.ts";
export type { HistOptions } from "./hist.ts";
export { momentsMap, momentsStatistic } from "./moments.ts";
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

/**
 * One point of the design space as the statistics need it: the {@link Design}'s statistic,
 * reference, seed and k-NN settings, and the FCA parameters.
 */
export type DesignOptions =
  & Pick<Design, "stats" | "reference" | "seed" | "knnK" | "knnStride">
  & Partial<Pick<Design, "bins">>
  & {
    /** T (all methods), σp (FCA's weights, SWW's σ), σs (FCA only). */
    params: FcaParams;
  };

/**
 * Anomaly map at feature resolution from min-max-scaled features. For stats "fca" + reference
 * "median" it equals fcaMapReference(features, medianReference(...)).
 */
export function anomalyMapCpu(features: FeatureMap, opts: DesignOptions): ScalarMap {
  validateParams(opts.params);
  checkDesign(opts.stats, opts.reference);
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
    case "qfca": // Quantized FCA (docs/qfca.md), against the quantized median reference.
      return qfcaMap(features, params, opts.bins ?? DEFAULT_QFCA_BINS);
  }
}
