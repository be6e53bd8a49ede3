/**
 * The median reference (convention 2 in docs/conventions.md): the floor(H/T)×floor(W/T) complete,
 * non-overlapping T×T tiles from (0,0); each tile's values sorted per channel; for every
 * (channel, rank) the lower median over tiles.
 *
 * This is the readable specification; `kernels/median_reference_{rank,select}.wgsl` and the fast CPU path are
 * tested against it.
 * @module
 */
import type { FeatureMap } from "./types.ts";

/** Number of complete tiles along each axis; throws when there is not even one. */
export function tileCounts(height: number, width: number, patch: number): [number, number] {
  const ty = Math.floor(height / patch), tx = Math.floor(width / patch);
  if (ty < 1 || tx < 1) {
    throw new Error(
      `feature map ${height}x${width} is smaller than one ${patch}x${patch} patch: use a larger image or a smaller --patch`,
    );
  }
  return [ty, tx];
}

/** Median reference `[C, T*T]`: entry (c, r) is the lower median over tiles of rank r's value. */
export function medianReference(features: FeatureMap, patch: number): Float32Array {
  const { channels: C, height: H, width: W, data } = features;
  const [ty, tx] = tileCounts(H, W, patch);
  const tiles = ty * tx, area = patch * patch;
  const ref = new Float32Array(C * area);
  const sortedTiles = new Float32Array(tiles * area); // [tile][rank]
  const column = new Float32Array(tiles);
  const mid = (tiles - 1) >> 1; // lower median
  for (let c = 0; c < C; c++) {
    const plane = data.subarray(c * H * W, (c + 1) * H * W);
    for (let t = 0; t < tiles; t++) {
      const y0 = Math.floor(t / tx) * patch, x0 = (t % tx) * patch;
      const tile = sortedTiles.subarray(t * area, (t + 1) * area);
      for (let dy = 0; dy < patch; dy++) {
        for (let dx = 0; dx < patch; dx++) tile[dy * patch + dx] = plane[(y0 + dy) * W + x0 + dx];
      }
      tile.sort();
    }
    for (let r = 0; r < area; r++) {
      for (let t = 0; t < tiles; t++) column[t] = sortedTiles[t * area + r];
      column.sort();
      ref[c * area + r] = column[mid];
    }
  }
  return ref;
}
