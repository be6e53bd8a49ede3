/**
 * The two array shapes every layer passes around: a multi-channel feature map and a
 * single-channel float map.
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
