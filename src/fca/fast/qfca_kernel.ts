/**
 * The fast QFCA kernel of one range of channels (plain TypeScript, run on the worker threads of
 * `CpuQfca` or on the calling thread). Per channel, in O(T + B) per window and O(m·T + T) per
 * pixel instead of the specification's O(T²·(T² + B)):
 *
 * 1. Window histograms slide along each row (column histograms: B counts in, B out per step);
 *    their averaged errors `E[b][p] = (Φ_b[H_b] − Φ_b[H_{b−1}]) / h_b` with
 *    `Φ_b[n] = Σ_{k<n} |b − r_k|` (the two-pointer merge of `../qfca.ts` in O(1) per bin) go into
 *    a [bin][window] table.
 *    Entries of absent bins are never read: a pixel of bin b only reads windows that hold it.
 * 2. The σp weights are separable (`w = g⊗g`): pixel x of bin b needs the row sums
 *    `R[b][y][x] = Σ_dx g(dx)·E[b][y][x+dx]` of the T rows above and below it; each is computed
 *    once per channel (memoised with a channel stamp) and shared by the pixels of the same bin in
 *    that column, so the cost per pixel is T plus T per distinct bin in its column segment.
 *
 * Equals `qfcaMap` of `../qfca.ts` (before its 1/(C·B) scale and σs blur) up to float rounding.
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
  const phi = new Float32Array(B * (A + 1));
  const inv = new Float32Array(A + 1);
  for (let k = 1; k <= A; k++) inv[k] = 1 / k;
  const E = new Float32Array(n * B);
  const R = new Float32Array(n * B);
  const stamp = new Int32Array(n * B);
  const hist = new Int32Array(B);
  const colHist = new Int32Array((W + 2 * (T >> 1)) * B);
  const ty = Math.floor(H / T), tx = Math.floor(W / T), tiles = ty * tx;
  const sorted = new Uint8Array(t.reference ? 0 : tiles * A);
  const count = new Int32Array(B);
  const mid = (tiles - 1) >> 1;
  const padRow = new Int32Array(PH), padCol = new Int32Array(PW);
  for (let py = 0; py < PH; py++) padRow[py] = reflect(py - half, H);
  for (let px = 0; px < PW; px++) padCol[px] = reflect(px - half, W);
  const gf = Float32Array.from(g);
  for (let c = t.c0; c < t.c1; c++) {
    const base = c * n;
    for (let k = 0; k < n; k++) {
      const b = Math.floor(Math.fround(data[base + k] * B));
      bin[k] = b >= B ? B - 1 : b >= 0 ? b : 0;
    }
    for (let py = 0; py < PH; py++) {
      const src = padRow[py] * W, dst = py * PW;
      for (let px = 0; px < PW; px++) pad[dst + px] = bin[src + padCol[px]];
    }
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
      let s = 0;
      phi[o] = 0;
      for (let k = 0; k < A; k++) phi[o + k + 1] = s += Math.abs(b - ref[k]);
    }
    // Per-window averaged errors E[b·n + p] from column histograms (counts of each bin in the
    // T padded rows of the current window row, per padded column): a window's histogram moves
    // right by adding one column's B counts and removing another's.
    colHist.fill(0);
    for (let py = 0; py < T; py++) {
      const r = py * PW;
      for (let px = 0; px < PW; px++) colHist[px * B + pad[r + px]]++;
    }
    for (let i = 0; i < H; i++) {
      if (i > 0) {
        const add = (i + T - 1) * PW, sub = (i - 1) * PW;
        for (let px = 0; px < PW; px++) {
          colHist[px * B + pad[add + px]]++;
          colHist[px * B + pad[sub + px]]--;
        }
      }
      hist.fill(0);
      for (let px = 0; px < T; px++) {
        const o = px * B;
        for (let b = 0; b < B; b++) hist[b] += colHist[o + b];
      }
      for (let j = 0; j < W; j++) {
        if (j > 0) {
          const ao = (j + T - 1) * B, so = (j - 1) * B;
          for (let b = 0; b < B; b++) hist[b] += colHist[ao + b] - colHist[so + b];
        }
        let cum = 0;
        const p = i * W + j;
        for (let b = 0; b < B; b++) {
          const h = hist[b];
          if (h === 0) continue;
          const po = b * (A + 1) + cum;
          E[b * n + p] = (phi[po + h] - phi[po]) * inv[h];
          cum += h;
          if (cum === A) break;
        }
      }
    }
    // Each pixel reads the windows that hold it.
    const cs = c + 1;
    for (let i = 0; i < H; i++) {
      const ya = Math.max(0, i - half), yb = Math.min(H - 1, i + half);
      for (let j = 0; j < W; j++) {
        const b = bin[i * W + j];
        const xa = Math.max(0, j - half), xb = Math.min(W - 1, j + half);
        let s = 0;
        for (let y = ya; y <= yb; y++) {
          const idx = b * n + y * W + j;
          let r: number;
          if (stamp[idx] === cs) r = R[idx];
          else {
            r = 0;
            const e0 = b * n + y * W;
            for (let x = xa; x <= xb; x++) r += gf[x - j + half] * E[e0 + x];
            R[idx] = r;
            stamp[idx] = cs;
          }
          s += gf[y - i + half] * r;
        }
        acc[i * W + j] += s;
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
