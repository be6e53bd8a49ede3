// AssemblyScript source of the fast CPU QFCA kernel (`--stats qfca`): one call adds the QFCA
// scores of a range of channels, Σ_{windows p ∋ x} w(x−p)·B·e_p[q(x)], to a float64 map. Rebuild
// qfca_kernel_wasm.ts with `deno task build:wasm` (build_wasm.ts builds every kernel).
//
// Per channel, in one pass down the rows (docs/qfca.md, "The fast CPU path"):
// 1. quantize into a reflect-padded plane of bins; the quantized median reference by counting
//    sorts (unless given); the prefix table Φ_b[n] = Σ_{k<n} |b − r_k| (bin units);
// 2. window histograms slide (per padded column, the counts of the T rows of the current window
//    row; a window moves right by adding one column's B counts and removing another's) and give
//    every bin's averaged error E_b(p) = (Φ_b[H_b] − Φ_b[H_{b−1}]) / h_b, branch-free (an absent
//    bin gets 0: inv[0] = 0), into a ring of the last T rows of windows, [row][bin][column];
// 3. the σp weights are separable (w = g⊗g): for output row i, the vertical filter of every bin
//    present in the row, V_b(x) = Σ_dy g(dy)·E_b(i−½T+dy, x), runs 4 columns at a time (f32x4),
//    then each pixel takes the horizontal filter of its own bin's V, 4 taps at a time.
// Windows outside the image have E = 0 (ring rows and columns beyond the map stay zero), which is
// the specification's "windows p in the image". The cost per pixel is O(B) for the histograms,
// O(bins present · T / 4) for the vertical filter and O(T / 4) for the horizontal one.

// Scratch layout (byte offsets from scr), set by layout().
let oPad: i32 = 0;
let oRef: i32 = 0;
let oPhi: i32 = 0;
let oInv: i32 = 0;
let oCol: i32 = 0;
let oHist: i32 = 0;
let oRing: i32 = 0;
let oV: i32 = 0;
let oG: i32 = 0;
let oNeed: i32 = 0;
let oSlot: i32 = 0;
let oTiles: i32 = 0;
let oCount: i32 = 0;
let oCntv: i32 = 0;
let oRefl: i32 = 0;
let oNeedLo: i32 = 0;
let oNeedHi: i32 = 0;
let oEnd: i32 = 0;

// @ts-ignore: decorator
@inline function r16(n: i32): i32 {
  return (n + 15) & ~15;
}

// @ts-ignore: decorator
@inline function r4(n: i32): i32 {
  return (n + 3) & ~3;
}

// Row/column index i (may be outside [0, n)) reflected into [0, n) without repeating the edge.
function reflect(i: i32, n: i32): i32 {
  if (n == 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

function layout(H: i32, W: i32, T: i32, B: i32): void {
  const half = T >> 1, PH = H + 2 * half, PW = W + 2 * half, A = T * T;
  const B4 = r4(B), W4 = r16(W), VW = r4(W4 + 2 * half + 4), G4 = r4(T);
  const tiles = (H / T) * (W / T);
  let at = 0;
  oPad = at;
  at += r16(PH * PW);
  oRef = at;
  at += r16(A * 4);
  oPhi = at;
  at += r16(B * (A + 1) * 4);
  oInv = at;
  at += r16((A + 1) * 4);
  oCol = at;
  at += r16(PW * B4 * 4);
  oHist = at;
  at += r16(B4 * 4);
  oRing = at;
  at += r16(T * B * W4 * 4);
  oV = at;
  at += r16(B * VW * 4);
  oG = at;
  at += r16(G4 * 4);
  oNeed = at;
  at += r16(B * (W4 / 16 + 1) * 4);
  oSlot = at;
  at += r16(T * 4);
  oTiles = at;
  at += r16(tiles * B * 4);
  oCntv = at;
  at += r16((A + 1) * 4);
  oCount = at;
  at += r16(B * 4);
  oRefl = at;
  at += r16(2 * half * 4);
  oNeedLo = at;
  at += r16(W * 4);
  oNeedHi = at;
  at += r16(W * 4);
  oEnd = at;
}

// Bytes of scratch `channels` needs (one thread) for an H×W map, patch T and B bins.
export function scratchBytes(H: i32, W: i32, T: i32, B: i32): i32 {
  layout(H, W, T, B);
  return oEnd;
}

// Bins of channel plane `src` (H×W f32) into the reflect-padded plane pad (PH×PW u8):
// q(v) = clamp(floor(f32(v·B)), 0, B−1), NaN to 0.
// `refl`: the source columns of the left margin, then of the right margin (reflect).
function quantizePad(
  src: usize,
  pad: usize,
  refl: usize,
  H: i32,
  W: i32,
  half: i32,
  B: i32,
): void {
  const PW = W + 2 * half, Bf = <f32>B, top = <f32>(B - 1);
  const vB = f32x4.splat(Bf), vTop = f32x4.splat(top), vZero = f32x4.splat(0);
  for (let y = 0; y < H; y++) {
    const row = pad + (y + half) * PW, s = src + ((y * W) << 2);
    let x = 0;
    // 16 values a step: pmax(0, v) sends NaN to 0 (its comparison is false), as the scalar tail.
    for (; x + 16 <= W; x += 16) {
      const at = s + (x << 2);
      const q0 = i32x4.trunc_sat_f32x4_s(
        f32x4.pmin(vTop, f32x4.pmax(vZero, f32x4.floor(f32x4.mul(v128.load(at), vB)))),
      );
      const q1 = i32x4.trunc_sat_f32x4_s(
        f32x4.pmin(vTop, f32x4.pmax(vZero, f32x4.floor(f32x4.mul(v128.load(at, 16), vB)))),
      );
      const q2 = i32x4.trunc_sat_f32x4_s(
        f32x4.pmin(vTop, f32x4.pmax(vZero, f32x4.floor(f32x4.mul(v128.load(at, 32), vB)))),
      );
      const q3 = i32x4.trunc_sat_f32x4_s(
        f32x4.pmin(vTop, f32x4.pmax(vZero, f32x4.floor(f32x4.mul(v128.load(at, 48), vB)))),
      );
      v128.store(
        row + half + x,
        i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)),
      );
    }
    for (; x < W; x++) {
      let f = Mathf.floor(load<f32>(s + (x << 2)) * Bf);
      f = f >= top ? top : (f >= 0 ? f : 0); // NaN fails both tests: bin 0
      store<u8>(row + half + x, <u8>(<i32>f));
    }
    for (let x = 0; x < half; x++) {
      store<u8>(row + x, load<u8>(row + half + load<i32>(refl + (x << 2))));
      store<u8>(row + half + W + x, load<u8>(row + half + load<i32>(refl + ((half + x) << 2))));
    }
  }
  for (let py = 0; py < half; py++) {
    memory.copy(pad + py * PW, pad + (reflect(py - half, H) + half) * PW, PW);
    const pb = H + half + py;
    memory.copy(pad + pb * PW, pad + (reflect(H + py, H) + half) * PW, PW);
  }
}

// Quantized median reference (convention 2 on the map of bins) into ref (A i32), by counting.
// In tile t the value of rank k has the smallest bin b with cum_t[b] > k (cum_t: the tile's
// cumulative histogram), so at most `mid` tiles put rank k above bin b exactly when k < M_b, the
// (mid+1)-th largest of cum_t[b] over the tiles; the lower median of rank k is then the smallest b
// with M_b > k (M is non-decreasing, M_{B−1} = T²).
function medianRef(scr: usize, H: i32, W: i32, T: i32, B: i32): void {
  const half = T >> 1, PW = W + 2 * half, A = T * T, tx = W / T, tiles = (H / T) * tx;
  const pad = scr + oPad, cumT = scr + oTiles, cntv = scr + oCntv, ref = scr + oRef;
  const mid = (tiles - 1) >> 1;
  for (let t = 0; t < tiles; t++) {
    const count = cumT + ((t * B) << 2);
    for (let b = 0; b < B; b++) store<i32>(count + (b << 2), 0);
    const y0 = (t / tx) * T + half, x0 = (t % tx) * T + half;
    for (let dy = 0; dy < T; dy++) {
      const row = pad + (y0 + dy) * PW + x0;
      for (let dx = 0; dx < T; dx++) {
        const c = count + (<i32>load<u8>(row + dx) << 2);
        store<i32>(c, load<i32>(c) + 1);
      }
    }
    let cum = 0;
    for (let b = 0; b < B; b++) {
      cum += load<i32>(count + (b << 2));
      store<i32>(count + (b << 2), cum);
    }
  }
  let k = 0;
  for (let b = 0; b < B && k < A; b++) {
    // M_b: the largest v with at least mid+1 tiles having cum_t[b] ≥ v (a histogram over v).
    for (let v = 0; v <= A; v++) store<i32>(cntv + (v << 2), 0);
    for (let t = 0; t < tiles; t++) {
      const c = cntv + (load<i32>(cumT + ((t * B + b) << 2)) << 2);
      store<i32>(c, load<i32>(c) + 1);
    }
    let M = A, seen = load<i32>(cntv + (A << 2));
    while (seen <= mid) seen += load<i32>(cntv + ((--M) << 2));
    for (; k < M; k++) store<i32>(ref + (k << 2), b);
  }
}

// Window row r's averaged errors into ring slot `slot` ([bin][column], W4 columns a bin). The
// column histograms (colHist) hold window row r−1's counts on entry when r > 0.
function errorRow(scr: usize, r: i32, slot: i32, W: i32, T: i32, B: i32): void {
  const half = T >> 1, PW = W + 2 * half, A = T * T, B4 = r4(B), W4 = r16(W);
  const pad = scr + oPad, col = scr + oCol, hist = scr + oHist, phi = scr + oPhi;
  const inv = scr + oInv, phiRow = (A + 1) << 2, binStride = W4 << 2;
  if (r > 0) {
    const add = pad + (r + T - 1) * PW, sub = pad + (r - 1) * PW;
    for (let px = 0; px < PW; px++) {
      const ca = col + ((px * B4 + <i32>load<u8>(add + px)) << 2);
      store<i32>(ca, load<i32>(ca) + 1);
      const cs = col + ((px * B4 + <i32>load<u8>(sub + px)) << 2);
      store<i32>(cs, load<i32>(cs) - 1);
    }
  }
  for (let b = 0; b < B4; b += 4) {
    let h = i32x4.splat(0);
    for (let px = 0; px < T; px++) h = i32x4.add(h, v128.load(col + ((px * B4 + b) << 2)));
    v128.store(hist + (b << 2), h);
  }
  const out0 = scr + oRing + ((slot * B * W4) << 2);
  for (let j = 0; j < W; j++) {
    if (j > 0) {
      const ao = col + (((j + T - 1) * B4) << 2), so = col + (((j - 1) * B4) << 2);
      for (let b = 0; b < B4; b += 4) {
        const o = b << 2;
        v128.store(
          hist + o,
          i32x4.sub(i32x4.add(v128.load(hist + o), v128.load(ao + o)), v128.load(so + o)),
        );
      }
    }
    let cum = 0, ph = phi, out = out0 + (j << 2);
    for (let b = 0; b < B; b++) {
      const h = load<i32>(hist + (b << 2)), hi = cum + h;
      const e = (load<f32>(ph + (hi << 2)) - load<f32>(ph + (cum << 2))) * load<f32>(inv + (h << 2));
      store<f32>(out, e);
      if (hi == A) break; // bins above the window's largest are absent (never read, see above)
      cum = hi;
      ph += phiRow;
      out += binStride;
    }
  }
}

// errorRow for 5–8 bins (B4 = 8, the default B = 8): the window histogram stays in two i32x4
// registers instead of memory, and the bin loop is unrolled (extract_lane needs constant lanes).
function errorRow8(scr: usize, r: i32, slot: i32, W: i32, T: i32, B: i32): void {
  const half = T >> 1, PW = W + 2 * half, A = T * T, W4 = r16(W);
  const pad = scr + oPad, col = scr + oCol, phi = scr + oPhi;
  const inv = scr + oInv, phiRow = (A + 1) << 2, binStride = W4 << 2;
  if (r > 0) {
    const add = pad + (r + T - 1) * PW, sub = pad + (r - 1) * PW;
    for (let px = 0; px < PW; px++) {
      const ca = col + ((px * 8 + <i32>load<u8>(add + px)) << 2);
      store<i32>(ca, load<i32>(ca) + 1);
      const cs = col + ((px * 8 + <i32>load<u8>(sub + px)) << 2);
      store<i32>(cs, load<i32>(cs) - 1);
    }
  }
  let h0 = i32x4.splat(0), h1 = h0;
  for (let px = 0; px < T; px++) {
    h0 = i32x4.add(h0, v128.load(col + (px << 5)));
    h1 = i32x4.add(h1, v128.load(col + (px << 5), 16));
  }
  const out0 = scr + oRing + ((slot * B * W4) << 2);
  for (let j = 0; j < W; j++) {
    if (j > 0) {
      const ao = col + ((j + T - 1) << 5), so = col + ((j - 1) << 5);
      h0 = i32x4.sub(i32x4.add(h0, v128.load(ao)), v128.load(so));
      h1 = i32x4.sub(i32x4.add(h1, v128.load(ao, 16)), v128.load(so, 16));
    }
    // Bins above the window's largest are absent (never read): stop when the counts reach A.
    let cum = 0, ph = phi, out = out0 + (j << 2), h = 0, hi = 0;
      h = i32x4.extract_lane(h0, 0);
      hi = cum + h;
      store<f32>(out, (load<f32>(ph + (hi << 2)) - load<f32>(ph + (cum << 2))) * load<f32>(inv + (h << 2)));
      if (hi == A) continue;
      cum = hi;
      ph += phiRow;
      out += binStride;
      h = i32x4.extract_lane(h0, 1);
      hi = cum + h;
      store<f32>(out, (load<f32>(ph + (hi << 2)) - load<f32>(ph + (cum << 2))) * load<f32>(inv + (h << 2)));
      if (hi == A) continue;
      cum = hi;
      ph += phiRow;
      out += binStride;
      h = i32x4.extract_lane(h0, 2);
      hi = cum + h;
      store<f32>(out, (load<f32>(ph + (hi << 2)) - load<f32>(ph + (cum << 2))) * load<f32>(inv + (h << 2)));
      if (hi == A) continue;
      cum = hi;
      ph += phiRow;
      out += binStride;
      h = i32x4.extract_lane(h0, 3);
      hi = cum + h;
      store<f32>(out, (load<f32>(ph + (hi << 2)) - load<f32>(ph + (cum << 2))) * load<f32>(inv + (h << 2)));
      if (hi == A) continue;
      cum = hi;
      ph += phiRow;
      out += binStride;
      h = i32x4.extract_lane(h1, 0);
      hi = cum + h;
      store<f32>(out, (load<f32>(ph + (hi << 2)) - load<f32>(ph + (cum << 2))) * load<f32>(inv + (h << 2)));
      if (hi == A) continue;
      cum = hi;
      ph += phiRow;
      out += binStride;
      h = i32x4.extract_lane(h1, 1);
      hi = cum + h;
      store<f32>(out, (load<f32>(ph + (hi << 2)) - load<f32>(ph + (cum << 2))) * load<f32>(inv + (h << 2)));
      if (hi == A) continue;
      cum = hi;
      ph += phiRow;
      out += binStride;
      h = i32x4.extract_lane(h1, 2);
      hi = cum + h;
      store<f32>(out, (load<f32>(ph + (hi << 2)) - load<f32>(ph + (cum << 2))) * load<f32>(inv + (h << 2)));
      if (hi == A) continue;
      cum = hi;
      ph += phiRow;
      out += binStride;
      h = i32x4.extract_lane(h1, 3);
      hi = cum + h;
      store<f32>(out, (load<f32>(ph + (hi << 2)) - load<f32>(ph + (cum << 2))) * load<f32>(inv + (h << 2)));
  }
}

// Adds the scores of nch channels (planes of H×W f32 from feat, one after another) to acc (H×W
// f64): Σ_{windows p ∋ x} w(x−p)·B·e_p[q(x)], w = g⊗g (g: T f32 taps at `g`). `refs`: the
// channels' reference bins (u8, T² per channel) or 0 for each channel's quantized median
// reference. `scr`: scratchBytes(H, W, T, B) bytes.
export function channels(
  feat: usize,
  nch: i32,
  H: i32,
  W: i32,
  T: i32,
  B: i32,
  g: usize,
  refs: usize,
  acc: usize,
  scr: usize,
): void {
  layout(H, W, T, B);
  const half = T >> 1, PW = W + 2 * half, A = T * T, n = H * W;
  const B4 = r4(B), W4 = r16(W), VW = r4(W4 + 2 * half + 4), G4 = r4(T);
  const pad = scr + oPad, ref = scr + oRef, phi = scr + oPhi, inv = scr + oInv;
  const col = scr + oCol, ring = scr + oRing, V = scr + oV, gp = scr + oG;
  const need = scr + oNeed, slotOff = scr + oSlot, NB = W4 >> 4;
  const slotBytes = (B * W4) << 2;
  // Zero what is read but never written: ring columns ≥ W, V's margins, g's padding taps.
  memory.fill(ring, 0, T * slotBytes);
  memory.fill(V, 0, (B * VW) << 2);
  memory.fill(gp, 0, G4 << 2);
  for (let k = 0; k < T; k++) store<f32>(gp + (k << 2), load<f32>(g + ((T - 1 - k) << 2)));
  const refl = scr + oRefl, needLo = scr + oNeedLo, needHi = scr + oNeedHi;
  for (let x = 0; x < half; x++) {
    store<i32>(refl + (x << 2), reflect(x - half, W));
    store<i32>(refl + ((half + x) << 2), reflect(W + x, W));
  }
  // Column j's pixels need the vertical filter in column groups needLo[j] … needHi[j] − 1.
  for (let j = 0; j < W; j++) {
    store<i32>(needLo + (j << 2), (max(0, j - half) >> 4) << 2);
    store<i32>(needHi + (j << 2), ((min(W - 1, j + half) >> 4) + 1) << 2);
  }
  store<f32>(inv, 0); // absent bins: (Φ[H] − Φ[H])·0 = 0
  for (let k = 1; k <= A; k++) store<f32>(inv + (k << 2), <f32>1 / <f32>k);
  for (let c = 0; c < nch; c++) {
    quantizePad(feat + ((c * n) << 2), pad, refl, H, W, half, B);
    if (refs != 0) {
      for (let k = 0; k < A; k++) store<i32>(ref + (k << 2), <i32>load<u8>(refs + c * A + k));
    } else medianRef(scr, H, W, T, B);
    for (let b = 0; b < B; b++) {
      const o = phi + ((b * (A + 1)) << 2);
      let s = 0;
      store<f32>(o, 0);
      for (let k = 0; k < A; k++) {
        s += abs(b - load<i32>(ref + (k << 2)));
        store<f32>(o + ((k + 1) << 2), <f32>s);
      }
    }
    memory.fill(col, 0, (PW * B4) << 2);
    for (let py = 0; py < T; py++) {
      const row = pad + py * PW;
      for (let px = 0; px < PW; px++) {
        const ca = col + ((px * B4 + <i32>load<u8>(row + px)) << 2);
        store<i32>(ca, load<i32>(ca) + 1);
      }
    }
    // Rows of windows −half..−1 (slots T−half..T−1) do not exist: zero. Rows 0..half now.
    memory.fill(ring + (T - half) * slotBytes, 0, half * slotBytes);
    for (let r = 0; r <= half && r < H; r++) {
      if (B4 == 8) errorRow8(scr, r, r, W, T, B);
      else errorRow(scr, r, r, W, T, B);
    }
    for (let r = H; r <= half; r++) memory.fill(ring + r * slotBytes, 0, slotBytes);
    for (let i = 0; i < H; i++) {
      if (i > 0) {
        const r = i + half, slot = r % T;
        if (r < H && B4 == 8) errorRow8(scr, r, slot, W, T, B);
        else if (r < H) errorRow(scr, r, slot, W, T, B);
        else memory.fill(ring + slot * slotBytes, 0, slotBytes);
      }
      // The ring slot of window row r is r mod T (rows −half..−1: T−half..T−1).
      for (let dy = 0; dy < T; dy++) {
        store<i32>(slotOff + (dy << 2), ((i - half + dy + T) % T) * slotBytes);
      }
      // The vertical filter of bin b is needed at the columns within ±half of the row's pixels
      // of bin b: per bin, a difference array over groups of 16 columns (4 f32x4 accumulators).
      const prow = pad + (i + half) * PW + half;
      memory.fill(need, 0, (B * (NB + 1)) << 2);
      for (let j = 0; j < W; j++) {
        const nb = need + ((<i32>load<u8>(prow + j) * (NB + 1)) << 2);
        const lo = nb + load<i32>(needLo + (j << 2)), hi = nb + load<i32>(needHi + (j << 2));
        store<i32>(lo, load<i32>(lo) + 1);
        store<i32>(hi, load<i32>(hi) - 1);
      }
      for (let b = 0; b < B; b++) {
        const nb = need + ((b * (NB + 1)) << 2);
        const rb = ring + ((b * W4) << 2), vb = V + ((b * VW + half) << 2);
        let on = 0;
        for (let grp = 0; grp < NB; grp++) {
          on += load<i32>(nb + (grp << 2));
          if (on == 0) continue;
          const at = rb + (grp << 6);
          // g is symmetric (g[dy] = g[T−1−dy] exactly): rows dy and T−1−dy share a multiply.
          const rc = at + load<i32>(slotOff + (half << 2));
          const gc = f32x4.splat(load<f32>(g + (half << 2)));
          let s0 = f32x4.mul(v128.load(rc), gc), s1 = f32x4.mul(v128.load(rc, 16), gc);
          let s2 = f32x4.mul(v128.load(rc, 32), gc), s3 = f32x4.mul(v128.load(rc, 48), gc);
          for (let dy = 0; dy < half; dy++) {
            const ra = at + load<i32>(slotOff + (dy << 2));
            const rb = at + load<i32>(slotOff + ((T - 1 - dy) << 2));
            const gv = f32x4.splat(load<f32>(g + (dy << 2)));
            s0 = f32x4.add(s0, f32x4.mul(f32x4.add(v128.load(ra), v128.load(rb)), gv));
            s1 = f32x4.add(s1, f32x4.mul(f32x4.add(v128.load(ra, 16), v128.load(rb, 16)), gv));
            s2 = f32x4.add(s2, f32x4.mul(f32x4.add(v128.load(ra, 32), v128.load(rb, 32)), gv));
            s3 = f32x4.add(s3, f32x4.mul(f32x4.add(v128.load(ra, 48), v128.load(rb, 48)), gv));
          }
          const o = vb + (grp << 6);
          v128.store(o, s0);
          v128.store(o, s1, 16);
          v128.store(o, s2, 32);
          v128.store(o, s3, 48);
        }
      }
      const arow = acc + ((i * W) << 3);
      if (G4 == 12) {
        // T = 9 or 11 (the default T = 9): the taps in registers, the loop unrolled.
        const g0 = v128.load(gp), g1 = v128.load(gp, 16), g2 = v128.load(gp, 32);
        for (let j = 0; j < W; j++) {
          const vb = V + ((<i32>load<u8>(prow + j) * VW + j) << 2);
          const s = f32x4.add(
            f32x4.add(f32x4.mul(v128.load(vb), g0), f32x4.mul(v128.load(vb, 16), g1)),
            f32x4.mul(v128.load(vb, 32), g2),
          );
          const f = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) +
            (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
          const a = arow + (j << 3);
          store<f64>(a, load<f64>(a) + <f64>f);
        }
        continue;
      }
      for (let j = 0; j < W; j++) {
        const b = <i32>load<u8>(prow + j);
        const vb = V + ((b * VW + j) << 2);
        let s = f32x4.splat(0);
        for (let k = 0; k < G4; k += 4) {
          s = f32x4.add(s, f32x4.mul(v128.load(vb + (k << 2)), v128.load(gp + (k << 2))));
        }
        const f = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) +
          (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
        const a = arow + (j << 3);
        store<f64>(a, load<f64>(a) + <f64>f);
      }
    }
  }
}
