/**
 * Image types shared by decoding, preprocessing and rendering.
 * @module
 */

/** A decoded image: planar RGB (`[3, height, width]`, channel-major) with values in [0, 1]. */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}
