/**
 * The fast QFCA kernel of one range of channels (plain TypeScript, run on the worker threads of
 * {@link CpuQfca} or on the calling thread). Per channel and bin b, with box counts, a table of
 * prefix errors and the separable σp weights, so that the cost per pixel is O(B·T) instead of the
 * specification's O(T²·(T² + B)):
 *
 * 1. `count_b(p)`: pixels of bin b in window p, a sliding T×T box count over the reflect-padded
 *    bin map; `H_b(p) = H_{b−1}(p) + count_b(p)` is the cumulative histogram.
 * 2. `E_b(p) = (Φ_b[H_b(p)] − Φ_b[H_{b−1}(p)]) / count_b(p)` with `Φ_b[n] = Σ_{k<n} |b − r_k|` (the
 *    two-pointer merge of `../qfca.ts` in O(1) per bin).
 * 3. `V_b = g ∗_y E_b` (windows in the image only), read at the pixels of bin b: `Σ_dx g·V_b`.
 *
 * Everything is restricted to the bounding box of each bin's pixels (dilated by T/2 for the
 * windows): windows farther away hold none of them. Equals `qfcaMap` of `../qfca.ts` (before its
 * 1/(C·B) scale and σs blur) up to float rounding.
 * @module
 */

/** One channel range's task. */
export interface QfcaTask {
  /** Min-max scaled features `[C, H, W]`. */
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
  patch: number;
  bins: number;
  /** The 1-D σp Gaussian (T taps; the weights are its outer product). */
  g: Float32Array;
  /** Channels [c0, c1). */
  c0: number;
  c1: number;
  /** Reference bins `[C, T·T]`; the quantized median reference of each channel when absent. */
  reference?: Uint8Array;
}

/**
 * Σ over channels c0..c1 of `Σ_{p ∋ x} w(x−p)·B·e_p[q(x)]` into a new H×W array (the caller
 * divides by C·B and blurs).
 */
export function qfcaChannels(t: QfcaTask): Float64Array {
  const { data, height: H, width: W, patch: T, bins: B, g } = t;
  const half = T >> 1, A = T * T, n = H * W;
  const PW = W + 2 * half, PH = H + 2 * half;
  const acc = new Float64Array(n);
  const bin = new Uint8Array(n);
  const pad = new Uint8Array(PH * PW);
  const ref = new Int32Array(A);
  const phi = new Float64Array(B * (A + 1));
  const prev = new Uint16Array(n);
  const E = new Float64Array(n);
  const V = new Float64Array(n);
  const colcnt = new Int32Array(PW);
  const box = new Int32Array(4 * B);
  const ty = Math.floor(H / T), tx = Math.floor(W / T), tiles = ty * tx;
  const sorted = new Uint8Array(t.reference ? 0 : tiles * A);
  const count = new Int32Array(B);
  const mid = (tiles - 1) >> 1;
  const factor = B; // q(v) = clamp(floor(f32(v·B)))
  const padRow = new Int32Array(PH), padCol = new Int32Array(PW);
  for (let py = 0; py < PH; py++) padRow[py] = reflect(py - half, H);
  for (let px = 0; px < PW; px++) padCol[px] = reflect(px - half, W);

  for (let c = t.c0; c < t.c1; c++) {
    // Quantize, and each bin's bounding box.
    box.fill(-1);
    for (let b = 0; b < B; b++) {
      box[4 * b] = H;
      box[4 * b + 2] = W;
    }
    const base = c * n;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        let b = Math.floor(Math.fround(data[base + i * W + j] * factor));
        b = b >= B ? B - 1 : b >= 0 ? b : 0;
        bin[i * W + j] = b;
        const o = 4 * b;
        if (i < box[o]) box[o] = i;
        if (i > box[o + 1]) box[o + 1] = i;
        if (j < box[o + 2]) box[o + 2] = j;
        if (j > box[o + 3]) box[o + 3] = j;
      }
    }
    for (let py = 0; py < PH; py++) {
      const src = padRow[py] * W, dst = py * PW;
      for (let px = 0; px < PW; px++) pad[dst + px] = bin[src + padCol[px]];
    }
    // Reference: given, or the lower median over tiles of each rank's bin (counting sorts).
    if (t.reference) {
      for (let k = 0; k < A; k++) ref[k] = t.reference[c * A + k];
    } else {
      for (let tt = 0; tt < tiles; tt++) {
        const y0 = Math.floor(tt / tx) * T, x0 = (tt % tx) * T;
        count.fill(0);
        for (let dy = 0; dy < T; dy++) {
          for (let dx = 0; dx < T; dx++) count[bin[(y0 + dy) * W + x0 + dx]]++;
        }
        let k = tt * A;
        for (let b = 0; b < B; b++) for (let m = count[b]; m > 0; m--) sorted[k++] = b;
      }
      for (let k = 0; k < A; k++) {
        count.fill(0);
        for (let tt = 0; tt < tiles; tt++) count[sorted[tt * A + k]]++;
        let b = 0, seen = count[0];
        while (seen <= mid) seen += count[++b];
        ref[k] = b;
      }
    }
    for (let b = 0; b < B; b++) {
      const o = b * (A + 1);
      phi[o] = 0;
      for (let k = 0; k < A; k++) phi[o + k + 1] = phi[o + k] + Math.abs(b - ref[k]);
    }
    prev.fill(0);
    for (let b = 0; b < B; b++) {
      const ymin = box[4 * b], ymax = box[4 * b + 1], xmin = box[4 * b + 2], xmax = box[4 * b + 3];
      if (ymax < 0) continue; // bin absent from this channel
      const y0 = Math.max(0, ymin - half), y1 = Math.min(H - 1, ymax + half);
      const x0 = Math.max(0, xmin - half), x1 = Math.min(W - 1, xmax + half);
      const pe = x1 + T - 1; // last padded column of the windows
      const po = b * (A + 1);
      // 1–2: box counts, cumulative histogram and averaged errors of the windows [y0,y1]×[x0,x1].
      for (let px = x0; px <= pe; px++) {
        let s = 0;
        for (let py = y0; py < y0 + T; py++) s += pad[py * PW + px] === b ? 1 : 0;
        colcnt[px] = s;
      }
      for (let i = y0; i <= y1; i++) {
        if (i > y0) {
          const add = (i + T - 1) * PW, sub = (i - 1) * PW;
          for (let px = x0; px <= pe; px++) {
            colcnt[px] += (pad[add + px] === b ? 1 : 0) - (pad[sub + px] === b ? 1 : 0);
          }
        }
        let s = 0;
        for (let px = x0; px < x0 + T; px++) s += colcnt[px];
        const row = i * W;
        for (let j = x0; j <= x1; j++) {
          if (j > x0) s += colcnt[j + T - 1] - colcnt[j - 1];
          const k = row + j;
          if (s > 0) {
            const lo = prev[k], hi = lo + s;
            E[k] = (phi[po + hi] - phi[po + lo]) / s;
            prev[k] = hi;
          } else E[k] = 0;
        }
      }
      // 3: vertical σp pass at the rows holding bin b, horizontal pass at its pixels.
      for (let i = ymin; i <= ymax; i++) {
        const row = i * W;
        for (let j = x0; j <= x1; j++) V[row + j] = 0;
        const ya = Math.max(y0, i - half), yb = Math.min(y1, i + half);
        for (let y = ya; y <= yb; y++) {
          const gy = g[y - i + half], src = y * W;
          for (let j = x0; j <= x1; j++) V[row + j] += gy * E[src + j];
        }
        for (let j = xmin; j <= xmax; j++) {
          if (bin[row + j] !== b) continue;
          const xa = Math.max(x0, j - half), xb = Math.min(x1, j + half);
          let s = 0;
          for (let x = xa; x <= xb; x++) s += g[x - j + half] * V[row + x];
          acc[row + j] += s;
        }
      }
    }
  }
  return acc;
}

function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}
