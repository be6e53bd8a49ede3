/**
 * Windowed rank matching for one row of windows (conventions 3–6 in docs/conventions.md), the hot loop of FCA.
 *
 * Per channel the window slides right one column at a time. Values equal to the channel minimum
 * are the smallest and tie in raster order, so their rank is their position among the window's
 * minima in raster order: they are tracked as one bit mask per window row. Every other value is
 * kept in a list sorted by a unique key (ordered float bits, then raster index in the padded band),
 * so ties are broken exactly as a stable sort does; a step drops the leaving column and merges the
 * sorted entering column in one pass that also adds each value's error. Per-window sums are float64
 * and taken over channels in order, so the result equals the reference specification bit for bit.
 * @module
 */
import { BLUR_SIZE, gaussian1d, patchWeights, reflectIndex } from "../params.ts";
import type { FcaParams } from "../types.ts";
import type { Layout } from "./layout.ts";

const KEY_SCALE = 2 ** 21; // keys: ordered float bits · 2^21 + band index (< 2^21): exact in f64

/** Reusable per-thread state of {@link rankRow} for one layout and parameter set. */
export class RowScratch {
  /** Sorted keys of the window's non-minimum values, double-buffered (A/B) across steps. */
  readonly keysA: Float64Array;
  /** Second buffer of the sorted keys. */
  readonly keysB: Float64Array;
  /** Band index of each key in keysA. */
  readonly posA: Int32Array;
  /** Band index of each key in keysB. */
  readonly posB: Int32Array;
  /** Sorted keys of the entering column's non-minimum values (+ sentinel). */
  readonly enterKey: Float64Array;
  /** Band index of each entering key. */
  readonly enterPos: Int32Array;
  /** Per window row, bit dx set where the value equals the channel minimum. */
  readonly masks: Int32Array;
  /** Column of every band index dy·PW + x. */
  readonly xOf: Int32Array;
  /** dy·T + x of every band index dy·PW + x (window offset k = that − window column). */
  readonly kOf: Int32Array;
  /** σp weights of the T×T window positions. */
  readonly weights: Float32Array;
  /** 2-D blur taps g[a]·g[b] (exact in float64), or null when σs = 0. */
  readonly blur: Float64Array | null;
  /** Reflect table inside the patch for the blur: index y + a (a = 0..4) → source row. */
  readonly blurIdx: Int32Array;
  /** One window's mean error map (scratch of finishRow). */
  readonly map: Float64Array;
  /** Whether minima are tracked by bit masks (needs T ≤ 31). */
  readonly useMasks: boolean;

  /** Scratch for layout `L` and `params`. */
  constructor(readonly L: Layout, readonly params: FcaParams) {
    const { patch: T, padW: PW, area } = L;
    if (T * PW > KEY_SCALE) {
      throw new Error(`fca/fast: padded width ${PW} too large for patch ${T}`);
    }
    this.keysA = new Float64Array(area + 1);
    this.keysB = new Float64Array(area + 1);
    this.posA = new Int32Array(area + 1);
    this.posB = new Int32Array(area + 1);
    this.enterKey = new Float64Array(T + 1);
    this.enterPos = new Int32Array(T + 1);
    this.masks = new Int32Array(T);
    this.xOf = new Int32Array(T * PW);
    this.kOf = new Int32Array(T * PW);
    for (let dy = 0; dy < T; dy++) {
      for (let x = 0; x < PW; x++) {
        this.xOf[dy * PW + x] = x;
        this.kOf[dy * PW + x] = dy * T + x;
      }
    }
    this.weights = patchWeights(T, params.sigmaP);
    const r = BLUR_SIZE >> 1;
    this.blurIdx = new Int32Array(T * BLUR_SIZE);
    for (let y = 0; y < T; y++) {
      for (let a = 0; a < BLUR_SIZE; a++) {
        this.blurIdx[y * BLUR_SIZE + a] = reflectIndex(y + a - r, T);
      }
    }
    if (params.sigmaS > 0) {
      const g = gaussian1d(BLUR_SIZE, params.sigmaS);
      this.blur = new Float64Array(BLUR_SIZE * BLUR_SIZE);
      for (let a = 0; a < BLUR_SIZE; a++) {
        for (let b = 0; b < BLUR_SIZE; b++) this.blur[a * BLUR_SIZE + b] = g[a] * g[b];
      }
    } else this.blur = null;
    this.map = new Float64Array(area);
    this.useMasks = T <= 31;
  }
}

/**
 * Adds every value's error of channels [c0, c1) in the windows centred on row i to
 * `acc[j·T² + k]` (float64), from padded features (`bits` is the same buffer viewed as Int32).
 * Plain TypeScript twin of the wasm kernel (`rank_kernel.as`).
 */
export function rankRow(
  padded: Float32Array,
  bits: Int32Array,
  mins: Float32Array,
  ref: Float32Array,
  acc: Float64Array,
  i: number,
  c0: number,
  c1: number,
  s: RowScratch,
): void {
  const { width: W, patch: T, padH: PH, padW: PW, area } = s.L;
  const { masks, xOf, kOf, enterKey, enterPos } = s;
  let keys = s.keysA, pos = s.posA, nkeys = s.keysB, npos = s.posB;
  const useMasks = s.useMasks, top = T - 1;
  enterKey[0] = Infinity;
  for (let c = c0; c < c1; c++) {
    const base = c * PH * PW + i * PW, rb = c * area;
    const mn = useMasks ? mins[c] : NaN; // NaN: no value is treated as a minimum
    // The window at column s covers padded columns s..s+T−1; start with columns 0..T−2 so that
    // every step (s = 0..W−1) enters column s+T−1 and leaves column s−1.
    let n = 0, Z = 0;
    for (let dy = 0; dy < T; dy++) masks[dy] = 0;
    for (let x = 0; x < T - 1; x++) {
      for (let dy = 0; dy < T; dy++) {
        const p = dy * PW + x, v = padded[base + p];
        if (v === mn) {
          masks[dy] |= 1 << (x + 1);
          Z++;
          continue;
        }
        const key = ordered(bits[base + p]) * KEY_SCALE + p;
        let k = n++;
        while (k > 0 && keys[k - 1] > key) {
          keys[k] = keys[k - 1];
          pos[k] = pos[k - 1];
          k--;
        }
        keys[k] = key;
        pos[k] = p;
      }
    }
    for (let sx = 0; sx < W; sx++) {
      const xe = sx + top, xl = sx - 1, wb = sx * area;
      // Entering column: minima into the masks, the rest sorted by key.
      let ne = 0;
      for (let dy = 0; dy < T; dy++) {
        const m = masks[dy];
        if (m & 1) Z--;
        const p = dy * PW + xe, v = padded[base + p];
        if (v === mn) {
          masks[dy] = (m >>> 1) | (1 << top);
          Z++;
          continue;
        }
        masks[dy] = m >>> 1;
        const key = ordered(bits[base + p]) * KEY_SCALE + p;
        let k = ne++;
        while (k > 0 && enterKey[k - 1] > key) {
          enterKey[k] = enterKey[k - 1];
          enterPos[k] = enterPos[k - 1];
          k--;
        }
        enterKey[k] = key;
        enterPos[k] = p;
      }
      enterKey[ne] = Infinity;
      // Merge: drop the leaving column, insert the entering one, add every value's error.
      keys[n] = Infinity;
      const rz = rb + Z; // a non-minimum's rank is Z + its place in the merged list
      let a = 0, b = 0, r = 0;
      const total = n + ne;
      while (a + b < total) {
        const ka = keys[a], kb = enterKey[b];
        let p: number, key: number;
        if (kb < ka) {
          p = enterPos[b++];
          key = kb;
        } else {
          p = pos[a++];
          if (xOf[p] === xl) continue;
          key = ka;
        }
        nkeys[r] = key;
        npos[r] = p;
        acc[wb + kOf[p] - sx] += Math.abs(padded[base + p] - ref[rz + r]);
        r++;
      }
      n = r;
      const tk = keys, tp = pos;
      keys = nkeys;
      pos = npos;
      nkeys = tk;
      npos = tp;
      // Minima: rank = count of minima before them in raster order.
      let z = rb;
      for (let dy = 0; dy < T; dy++) {
        let m = masks[dy];
        const row = wb + dy * T;
        while (m !== 0) {
          const low = m & -m;
          acc[row + 31 - Math.clz32(low)] += Math.abs(mn - ref[z++]);
          m ^= low;
        }
      }
    }
  }
}

/** Signed integer with the same order as the float32 whose bits are `b` (−0 never occurs). */
function ordered(b: number): number {
  return b < 0 ? -(b & 0x7fffffff) - 1 : b;
}

/** Mean over channels, σs blur inside the window, σp weights: acc → wmap for row i. */
export function finishRow(acc: Float64Array, wmap: Float64Array, i: number, s: RowScratch): void {
  const { channels: C, width: W, patch: T, area } = s.L;
  const { weights, blur, blurIdx, map } = s;
  for (let j = 0; j < W; j++) {
    const o = j * area, w0 = (i * W + j) * area;
    for (let k = 0; k < area; k++) map[k] = acc[o + k] / C;
    if (blur === null) {
      for (let k = 0; k < area; k++) wmap[w0 + k] = weights[k] * map[k];
      continue;
    }
    for (let y = 0; y < T; y++) {
      for (let x = 0; x < T; x++) {
        let sum = 0;
        for (let a = 0; a < BLUR_SIZE; a++) {
          const yy = blurIdx[y * BLUR_SIZE + a] * T;
          for (let b = 0; b < BLUR_SIZE; b++) {
            sum += blur[a * BLUR_SIZE + b] * map[yy + blurIdx[x * BLUR_SIZE + b]];
          }
        }
        wmap[w0 + y * T + x] = weights[y * T + x] * sum;
      }
    }
  }
}
