/**
 * Regions of an anomaly map above a threshold: 8-connected components at the map's resolution,
 * small ones dropped, each described by its box, area, centroid and map values.
 * @module
 */
import { labelComponents } from "../base/components.ts";
import type { ScalarMap } from "../fca/types.ts";

/** One connected region of above-threshold pixels. */
export interface Region {
  /** Bounding box in pixels: top-left corner and size (inclusive of every region pixel). */
  bbox: { x: number; y: number; width: number; height: number };
  /** Number of pixels. */
  area: number;
  /** Mean pixel position (pixel centres at integer coordinates). */
  centroid: { x: number; y: number };
  /** Highest map value in the region. */
  peak: number;
  /** Mean map value over the region. */
  mean: number;
}

/** Options of {@link findRegions}. */
export interface RegionOptions {
  /** Regions with fewer pixels are dropped (default 1: keep all). */
  minArea?: number;
  /** At most this many regions are listed, largest first (default 100). */
  maxRegions?: number;
  /**
   * Pixels within this many pixels of the image border never count as above the threshold (the
   * map is unreliable there); default 0.
   */
  border?: number;
}

/** The regions of one map. */
export interface RegionResult {
  /** Kept regions, largest first (ties: raster order of their first pixel), at most `maxRegions`. */
  regions: Region[];
  /** Kept regions left out of `regions` by the cap. */
  omitted: number;
  /** 1 where a pixel belongs to a kept region (any, even beyond the cap), else 0. */
  mask: Uint8Array;
}

/** Default cap on listed regions. */
export const MAX_REGIONS = 100;

/** A mask of the pixels that may be anomalous: 0 within `border` pixels of the edge, else 1. */
export function interiorMask(width: number, height: number, border: number): Uint8Array {
  const m = new Uint8Array(width * height);
  const b = Math.max(0, Math.floor(border));
  for (let y = b; y < height - b; y++) m.fill(1, y * width + b, y * width + width - b);
  return m;
}

/**
 * Label the nonzero pixels of a mask by 8-connected component: labels 1..count in raster order
 * of each component's first pixel (0 = off), the labelling the PRO metric uses.
 */
export function label8(
  mask: ArrayLike<number>,
  width: number,
  height: number,
): { labels: Int32Array; count: number } {
  const { labels, count } = labelComponents(mask, width, height);
  return { labels, count };
}

/**
 * The regions of `map` strictly above `threshold`: 8-connected components of
 * `map > threshold` (outside the border band), those smaller than `minArea` pixels dropped,
 * sorted largest first and capped at `maxRegions` (the rest counted in `omitted`).
 * NaN map values are never above the threshold.
 */
export function findRegions(
  map: ScalarMap,
  threshold: number,
  opts: RegionOptions = {},
): RegionResult {
  const { width, height, data } = map;
  const n = width * height;
  const minArea = Math.max(1, opts.minArea ?? 1);
  const cap = Math.max(0, opts.maxRegions ?? MAX_REGIONS);
  const above = new Uint8Array(n);
  const inside = opts.border ? interiorMask(width, height, opts.border) : null;
  for (let i = 0; i < n; i++) above[i] = data[i] > threshold && (!inside || inside[i]) ? 1 : 0;
  const { labels, count } = label8(above, width, height);
  const area = new Float64Array(count + 1);
  const sx = new Float64Array(count + 1), sy = new Float64Array(count + 1);
  const sum = new Float64Array(count + 1);
  const peak = new Float64Array(count + 1).fill(-Infinity);
  const x0 = new Int32Array(count + 1).fill(width), y0 = new Int32Array(count + 1).fill(height);
  const x1 = new Int32Array(count + 1).fill(-1), y1 = new Int32Array(count + 1).fill(-1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x, k = labels[i];
      if (!k) continue;
      const v = data[i];
      area[k]++;
      sx[k] += x;
      sy[k] += y;
      sum[k] += v;
      if (v > peak[k]) peak[k] = v;
      if (x < x0[k]) x0[k] = x;
      if (x > x1[k]) x1[k] = x;
      if (y < y0[k]) y0[k] = y;
      if (y > y1[k]) y1[k] = y;
    }
  }
  const kept: number[] = [];
  for (let k = 1; k <= count; k++) if (area[k] >= minArea) kept.push(k);
  kept.sort((a, b) => area[b] - area[a] || a - b);
  const keep = new Uint8Array(count + 1);
  for (const k of kept) keep[k] = 1;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (keep[labels[i]]) mask[i] = 1;
  const regions = kept.slice(0, cap).map((k): Region => ({
    bbox: { x: x0[k], y: y0[k], width: x1[k] - x0[k] + 1, height: y1[k] - y0[k] + 1 },
    area: area[k],
    centroid: { x: sx[k] / area[k], y: sy[k] / area[k] },
    peak: peak[k],
    mean: sum[k] / area[k],
  }));
  return { regions, omitted: kept.length - regions.length, mask };
}

/**
 * The image score that matches the region verdict exactly: the largest map value `s` such that
 * the pixels `>= s` (outside the border band) hold an 8-connected component of at least
 * `minArea` pixels. Then `findRegions(map, t, {minArea, border})` finds a region if and only if
 * `s > t`. With `minArea` 1 and no border this is the map's maximum. -Infinity when no component
 * is ever large enough (e.g. a map smaller than `minArea`).
 *
 * Computed in one pass: pixels are added in decreasing value order and merged with their added
 * 8-neighbours (union-find with sizes); the value at which a component first reaches `minArea`
 * pixels is `s`.
 */
export function regionScore(map: ScalarMap, minArea = 1, border = 0): number {
  const { width, height, data } = map;
  const n = width * height;
  const inside = border > 0 ? interiorMask(width, height, border) : null;
  let m = 0;
  for (let i = 0; i < n; i++) if ((!inside || inside[i]) && !Number.isNaN(data[i])) m++;
  const order = new Uint32Array(m);
  m = 0;
  for (let i = 0; i < n; i++) if ((!inside || inside[i]) && !Number.isNaN(data[i])) order[m++] = i;
  if (minArea <= 1) {
    let best = -Infinity;
    for (let j = 0; j < m; j++) if (data[order[j]] > best) best = data[order[j]];
    return best;
  }
  order.sort((a, b) => data[b] - data[a]);
  const parent = new Int32Array(n).fill(-1);
  const size = new Int32Array(n);
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  for (let j = 0; j < m; j++) {
    const i = order[j];
    parent[i] = i;
    size[i] = 1;
    let root = i;
    const x = i % width, y = (i - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= height) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if ((dx === 0 && dy === 0) || xx < 0 || xx >= width) continue;
        const q = yy * width + xx;
        if (parent[q] < 0) continue;
        const r = find(q);
        if (r === root) continue;
        if (size[r] > size[root]) {
          parent[root] = r;
          size[r] += size[root];
          root = r;
        } else {
          parent[r] = root;
          size[root] += size[r];
        }
      }
    }
    if (size[root] >= minArea) return data[i];
  }
  return -Infinity;
}
