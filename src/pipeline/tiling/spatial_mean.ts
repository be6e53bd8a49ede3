/**
 * The statistics compared with their spatial mean (`hist`, `moments`) over feature tiles, in two
 * passes: the first gathers the mean of the local planes over every tile's owned pixels, the
 * second measures each owned pixel's distance to it. A tile is read with a halo of the blur's
 * radius, so its owned pixels' local planes equal the whole map's (reflect padding at a tile's
 * inner edge only reaches the halo); the map equals the untiled one up to the order in which the
 * mean is summed.
 * @module
 */
import type { SpatialMeanStatistic } from "../../fca/stats/spatial_mean.ts";
import type { ScalarMap } from "../../fca/types.ts";
import type { RectReader } from "./fca.ts";
import { planAxis } from "./plan.ts";

/** Anomaly map (`height`×`width`) of `stat` over a feature map read tile by tile. */
export async function tiledSpatialMeanMap(
  read: RectReader,
  height: number,
  width: number,
  channels: number,
  stat: SpatialMeanStatistic,
  tile: number,
): Promise<ScalarMap> {
  const halo = stat.radius, P = stat.planes;
  const rows = planAxis(height, tile, halo), cols = planAxis(width, tile, halo);
  const sums = new Float64Array(channels * P);
  for (const ty of rows) {
    for (const tx of cols) {
      const f = await read(ty.inStart, ty.inEnd, tx.inStart, tx.inEnd);
      const n = f.height * f.width;
      for (let c = 0; c < channels; c++) {
        const local = stat.local(f, c);
        for (let p = 0; p < P; p++) {
          let s = 0;
          for (let y = ty.start; y < ty.end; y++) {
            const row = p * n + (y - ty.inStart) * f.width - tx.inStart;
            for (let x = tx.start; x < tx.end; x++) s += local[row + x];
          }
          sums[c * P + p] += s;
        }
      }
    }
  }
  const out = new Float32Array(height * width);
  const mean = new Float64Array(P);
  for (const ty of rows) {
    for (const tx of cols) {
      const f = await read(ty.inStart, ty.inEnd, tx.inStart, tx.inEnd);
      const acc = new Float64Array(f.height * f.width);
      for (let c = 0; c < channels; c++) {
        for (let p = 0; p < P; p++) mean[p] = sums[c * P + p] / (height * width);
        stat.accumulate(stat.local(f, c), mean, acc);
      }
      for (let y = ty.start; y < ty.end; y++) {
        const row = (y - ty.inStart) * f.width - tx.inStart;
        for (let x = tx.start; x < tx.end; x++) {
          out[y * width + x] = acc[row + x] / stat.divisor;
        }
      }
    }
  }
  return { height, width, data: out };
}
