/**
 * Data types shared by every stage of the pipeline.
 * @module
 */

/** A feature map of one image: `channels` planes of `height`×`width`, channel-major (CHW). */
export interface FeatureMap {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** A single-channel float map, row-major. */
export interface ScalarMap {
  height: number;
  width: number;
  data: Float32Array;
}

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
