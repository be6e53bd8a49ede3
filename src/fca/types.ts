/**
 * The FCA parameters, and the map types of `src/base/maps.ts` re-exported for the FCA stages.
 * @module
 */

export type { FeatureMap, ScalarMap } from "../base/maps.ts";

/** FCA hyper-parameters (paper defaults: patch 9, σp 3, σs 1). */
export interface FcaParams {
  /** Side T of the square context patch, odd and ≥ 1. */
  patch: number;
  /** σp of the Gaussian that weights each patch's contributions by spatial offset. */
  sigmaP: number;
  /** σs of the 5×5 Gaussian blur inside each patch; 0 turns the blur off. */
  sigmaS: number;
}

/** The paper's defaults. */
export const DEFAULT_FCA_PARAMS: Readonly<FcaParams> = Object.freeze({
  patch: 9,
  sigmaP: 3,
  sigmaS: 1,
});
