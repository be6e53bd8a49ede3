/**
 * The global median reference (convention 2 in docs/conventions.md) of a feature map that lives in a
 * {@link FeatureStore}, with memory for one band of T feature rows and one channel's sorted tiles
 * at a time.
 *
 * Min-max scaling is monotone non-decreasing per channel (float32 subtraction of a constant,
 * division by a positive constant and rounding all preserve order), so sorting raw values and
 * taking the lower median over tiles, then scaling, gives exactly the median of the scaled values:
 * order statistics commute with monotone maps. The raw values are therefore sorted straight from
 * the store, before any tile is scaled.
 * @module
 */
import { tileCounts } from "../../fca/median_reference.ts";
import { select } from "../../fca/fast/prep.ts";
import type { ChannelRange } from "./scale.ts";
import { FeatureStore } from "./store.ts";

/** Values read per band chunk (16 MiB of float32). */
const CHUNK_VALUES = 4 * 2 ** 20;

/**
 * Median reference `[C, T·T]` of the scaled map, from the raw map in `store` and its ranges.
 * Sorted tiles go to a second temporary file in `dir` (laid out [channel][tile][rank]).
 */
export async function storedMedianReference(
  store: FeatureStore,
  range: ChannelRange,
  patch: number,
  dir?: string,
): Promise<Float32Array> {
  const { channels: C, height: H, width: W } = store;
  const [ty, tx] = tileCounts(H, W, patch);
  const area = patch * patch, tiles = ty * tx, mid = (tiles - 1) >> 1;
  const sorted = await FeatureStore.create(1, C, tiles * area, dir);
  try {
    const perChunk = Math.max(1, Math.min(tx, Math.floor(CHUNK_VALUES / (patch * patch * C))));
    for (let g = 0; g < ty; g++) {
      for (let t0 = 0; t0 < tx; t0 += perChunk) {
        const k = Math.min(perChunk, tx - t0);
        const hwc = store.readHwc(g * patch, (g + 1) * patch, t0 * patch, (t0 + k) * patch);
        const out = new Float32Array(k * area);
        for (let c = 0; c < C; c++) {
          sortTiles(hwc, C, c, patch, k, range.lo[c], out);
          sorted.writeBlock(
            { channels: 1, height: 1, width: k * area, data: out },
            c,
            (g * tx + t0) * area,
          );
        }
      }
    }
    const ref = new Float32Array(C * area);
    const column = new Float32Array(tiles);
    for (let c = 0; c < C; c++) {
      const row = sorted.readHwc(c, c + 1, 0, tiles * area);
      for (let r = 0; r < area; r++) {
        for (let t = 0; t < tiles; t++) column[t] = row[t * area + r];
        ref[c * area + r] = range.scaleValue(c, select(column, tiles, mid));
      }
    }
    return ref;
  } finally {
    sorted.close();
  }
}

/**
 * Sort the values of channel `c` in each of `k` side-by-side T×T tiles of an HWC band
 * (T rows × k·T columns × C) into `out[tile·T² …]`. Values equal to the channel minimum `mn`
 * (ReLU zeros, mostly) go first without comparisons; the rest are insertion-sorted.
 */
function sortTiles(
  hwc: Float32Array,
  C: number,
  c: number,
  T: number,
  k: number,
  mn: number,
  out: Float32Array,
): void {
  const area = T * T, rowStride = k * T * C;
  for (let t = 0; t < k; t++) {
    const o = t * area;
    let zeros = 0, n = 0;
    const rest = out.subarray(o, o + area);
    for (let dy = 0; dy < T; dy++) {
      let i = dy * rowStride + t * T * C + c;
      for (let dx = 0; dx < T; dx++, i += C) {
        const v = hwc[i];
        if (v === mn) {
          zeros++;
          continue;
        }
        let j = n++;
        while (j > 0 && rest[j - 1] > v) {
          rest[j] = rest[j - 1];
          j--;
        }
        rest[j] = v;
      }
    }
    if (zeros > 0) {
      rest.copyWithin(zeros, 0, n);
      rest.fill(mn, 0, zeros);
    }
  }
}
