/**
 * Per-channel min-max scaling split in two: ranges gathered tile by tile over the whole map, then
 * applied to any tile. The arithmetic is that of `../fca/scale.ts` (float32, `(x − min) /
 * (max − min + 1e-8)`), so a scaled tile equals the same crop of the scaled whole map bit for bit.
 * @module
 */
import type { FeatureMap } from "../../fca/types.ts";

/** Running per-channel minimum and maximum of a feature map seen block by block. */
export class ChannelRange {
  /** Per-channel minimum so far. */
  readonly lo: Float32Array;
  /** Per-channel maximum so far. */
  readonly hi: Float32Array;
  #denom: Float32Array | null = null;

  /**
   * Empty ranges for `channels` channels. With `passThrough` the ranges are still gathered but
   * scaling leaves values as they are (hand-crafted features are used unscaled).
   */
  constructor(readonly channels: number, readonly passThrough = false) {
    this.lo = new Float32Array(channels).fill(Infinity);
    this.hi = new Float32Array(channels).fill(-Infinity);
  }

  /** Widen the ranges by a CHW block; throws one line on NaN or Inf (bad model output). */
  update(block: FeatureMap): void {
    const { channels: C, height, width, data } = block;
    if (C !== this.channels) {
      throw new Error(`tiling: block has ${C} channels, expected ${this.channels}`);
    }
    const n = height * width;
    for (let c = 0; c < C; c++) {
      let lo = this.lo[c], hi = this.hi[c];
      for (let i = c * n, end = i + n; i < end; i++) {
        const v = data[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (v - v !== 0) {
          throw new Error(`feature channel ${c} contains NaN or Inf (bad model output)`);
        }
      }
      this.lo[c] = lo;
      this.hi[c] = hi;
    }
    this.#denom = null;
  }

  /** The scaled value of raw `v` in channel `c`. */
  scaleValue(c: number, v: number): number {
    if (this.passThrough) return v;
    return Math.fround(Math.fround(v - this.lo[c]) / this.#denoms()[c]);
  }

  /** Scale a CHW block in place with the whole map's ranges, and return it. */
  scaleInPlace(block: FeatureMap): FeatureMap {
    if (this.passThrough) return block;
    const { channels: C, height, width, data } = block;
    const denom = this.#denoms(), n = height * width;
    for (let c = 0; c < C; c++) {
      const lo = this.lo[c], d = denom[c];
      for (let i = c * n, end = i + n; i < end; i++) {
        data[i] = Math.fround(Math.fround(data[i] - lo) / d);
      }
    }
    return block;
  }

  #denoms(): Float32Array {
    if (!this.#denom) {
      this.#denom = new Float32Array(this.channels);
      for (let c = 0; c < this.channels; c++) {
        if (!Number.isFinite(this.lo[c]) || !Number.isFinite(this.hi[c])) {
          throw new Error(`feature channel ${c} has no finite values (bad model output)`);
        }
        this.#denom[c] = Math.fround(Math.fround(this.hi[c] - this.lo[c]) + 1e-8);
      }
    }
    return this.#denom;
  }
}
