/**
 * Geometry of tiled processing: how an axis is cut into tiles with overlapping halos, and when
 * an image is large enough to need tiling at all.
 * @module
 */

/** One tile along an axis: the part it owns, `[start, end)`, and what it reads, `[inStart, inEnd)`. */
export interface AxisTile {
  /** First owned index (a multiple of the alignment). */
  start: number;
  /** One past the last owned index. */
  end: number;
  /** First index read: `start − halo`, clamped to 0. */
  inStart: number;
  /** One past the last index read: `end + halo`, clamped to the length. */
  inEnd: number;
}

/**
 * Cut `[0, length)` into owned ranges of at most `tile` indices whose starts are multiples of
 * `align`, each read with `halo` indices of context on both sides (clamped at the true ends).
 * Tiles are balanced (equal sizes up to the alignment) so that no tile is a sliver.
 */
export function planAxis(length: number, tile: number, halo: number, align = 1): AxisTile[] {
  for (const [name, v, min] of [["length", length, 1], ["tile", tile, 1], ["align", align, 1]]) {
    if (!Number.isInteger(v as number) || (v as number) < (min as number)) {
      throw new Error(`tiling: ${name} must be an integer >= ${min}, got ${v}`);
    }
  }
  if (!Number.isInteger(halo) || halo < 0) {
    throw new Error(`tiling: halo must be an integer >= 0, got ${halo}`);
  }
  const alignedTile = Math.max(align, Math.floor(tile / align) * align);
  const count = Math.ceil(length / alignedTile);
  const size = Math.ceil(length / count / align) * align; // balanced, still <= alignedTile
  const tiles: AxisTile[] = [];
  for (let start = 0; start < length; start += size) {
    const end = Math.min(length, start + size);
    tiles.push({
      start,
      end,
      inStart: Math.max(0, start - halo),
      inEnd: Math.min(length, end + halo),
    });
  }
  return tiles;
}

/** When {@link autoTileSize} starts tiling, and with which tile. */
export interface AutoTileLimits {
  /** Tile images with more pixels than this (default 4096·4096). */
  maxPixels: number;
  /** Tile images whose float32 feature map would exceed this many bytes (default 256 MiB). */
  maxFeatureBytes: number;
  /** Tile side in image pixels when tiling (default 1024). */
  tile: number;
}

/** The defaults of {@link AutoTileLimits}. */
export const DEFAULT_AUTO_TILE: Readonly<AutoTileLimits> = Object.freeze({
  maxPixels: 4096 * 4096,
  maxFeatureBytes: 256 * 2 ** 20,
  tile: 1024,
});

/**
 * Tile side (image pixels) to use for a `width`×`height` image whose backbone gives `channels`
 * channels at `stride`, or 0 when the image is small enough to run whole.
 */
export function autoTileSize(
  width: number,
  height: number,
  channels: number,
  stride: number,
  limits: AutoTileLimits = DEFAULT_AUTO_TILE,
): number {
  const featureBytes = 4 * channels * Math.ceil(height / stride) * Math.ceil(width / stride);
  const big = width * height > limits.maxPixels || featureBytes > limits.maxFeatureBytes;
  return big ? limits.tile : 0;
}
