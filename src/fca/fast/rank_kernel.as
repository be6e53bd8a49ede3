// AssemblyScript source of the wasm hot loops of the fast CPU FCA: rank matching and the median
// reference. Rebuild rank_kernel_wasm.ts with `deno task build:wasm`.
//
// Two rank kernels give the same sums: `rankBand` (T ≤ 31, the one used: value by value over each
// row's band, see its comment at the end of this file; 1.6–1.8× faster at T = 9) and `rank`
// (window by window, any T; used for T > 31), described here.
//
// Rank matching follows rank_row.ts: values equal to the channel minimum are ranked by bit masks
// (rank = count of minima before them in raster order); the others are kept in a list sorted by
// a unique integer key (order-preserving float bits << 21 | index in the padded band), which
// sorts exactly as a stable sort does (value first, then raster order in the window). The key
// carries the index and the value, so lists hold keys only, and the merge is branch-free. Minima
// whose rank's reference equals the minimum add an error of exactly 0 and are skipped. The window
// snakes through several rows per call, so each channel's list is built once per call, and for
// T = 9 the entering column is sorted by a branch-free sorting network.

const SENTINEL: i64 = i64.MAX_VALUE;
const INDEX_BITS: i64 = 21;
const INDEX_MASK: i32 = (1 << 21) - 1;

// Signed integer with the order of the float32 whose bits are b (−0 never occurs).
// @ts-ignore: decorator
@inline function ordered(b: i32): i32 {
  return b ^ ((b >> 31) & 0x7fffffff);
}

// The float32 value a key was made from (ordered() is its own inverse).
// @ts-ignore: decorator
@inline function keyValue(key: i64): f32 {
  return reinterpret<f32>(ordered(<i32>(key >> INDEX_BITS)));
}

// Bytes of scratch `rank` or `rankBand` needs for patch T and padded width PW.
export function scratchBytes(T: i32, PW: i32): i32 {
  const area = T * T;
  const list = ((area + 1) << 4) + ((T + 1) << 3) + (T << 3) + ((T * PW) << 3) + (area << 4) + 64;
  return max(list, bandLayout(T, PW));
}

// Per-instance state of one rank call (wasm globals are per instance, so per thread).
let gMasks: usize = 0;
let gEkey: usize = 0;
let gRpw: i32 = 1;
let gNw: i32 = 1;
let gT: i32 = 1;
let gMn: f32 = 0;

// Insert `key` into the entering list of `ne` sorted keys (insertion sort: few enter per step).
// @ts-ignore: decorator
@inline function enterKey(key: i64, ne: i32): void {
  const ekey = gEkey;
  let k = ne;
  while (k > 0) {
    const prev = load<i64>(ekey + ((k - 1) << 3));
    if (prev < key) break;
    store<i64>(ekey + (k << 3), prev);
    k--;
  }
  store<i64>(ekey + (k << 3), key);
}

// Entering column xe of a horizontal step: shift every row's mask field (right when `right`, the
// column entering at bit T−1, else left, entering at bit 0), set the minima, sort the others
// into the entering list. Returns ne | Z << 16 (entering count, minima in the window).
// @ts-ignore: decorator
@inline function enterColumn(base: usize, xe: i32, PW: i32, right: bool, keep: i64): i32 {
  const T = gT, rpw = gRpw, nw = gNw, masks = gMasks, mn = gMn;
  const bit = right ? T - 1 : 0;
  let ne = 0, Z = 0;
  for (let w = 0; w < nw; w++) {
    const m0 = load<i64>(masks + (w << 3));
    let m = (right ? m0 >>> 1 : m0 << 1) & keep;
    const d1 = min(T, (w + 1) * rpw);
    for (let dy = w * rpw; dy < d1; dy++) {
      const p = dy * PW + xe, v = load<f32>(base + (p << 2));
      if (v == mn) {
        m |= <i64>1 << <i64>((dy - w * rpw) * T + bit);
        continue;
      }
      enterKey((<i64>ordered(reinterpret<i32>(v)) << INDEX_BITS) | <i64>p, ne++);
    }
    store<i64>(masks + (w << 3), m);
    Z += <i32>popcnt(m);
  }
  store<i64>(gEkey + (ne << 3), SENTINEL);
  return ne | (Z << 16);
}

// enterColumn for T = 9, branch-free: a column's minima set mask bits and become sentinel keys,
// and a 25-comparator sorting network (Floyd's) sorts the 9 keys, sentinels last; the window
// rows sit in mask words 0 (rows 0–6) and 1 (rows 7–8). Returns ne | Z << 16.
// @ts-ignore: decorator
@inline function enterColumn9(base: usize, xe: i32, PW: i32, right: bool, keep: i64): i32 {
  const masks = gMasks, mn = gMn, ekey = gEkey, bit: i64 = right ? 8 : 0;
  let w0 = load<i64>(masks), w1 = load<i64>(masks, 8);
  w0 = (right ? w0 >>> 1 : w0 << 1) & keep;
  w1 = (right ? w1 >>> 1 : w1 << 1) & keep;
  let at = base + (xe << 2), p = xe, ne = 9;
  const v0 = load<f32>(at), z0 = v0 == mn;
  w0 |= <i64>z0 << (bit + 0);
  ne -= <i32>z0;
  let k0 = select<i64>(SENTINEL, (<i64>ordered(reinterpret<i32>(v0)) << INDEX_BITS) | <i64>p, z0);
  at += PW << 2;
  p += PW;
  const v1 = load<f32>(at), z1 = v1 == mn;
  w0 |= <i64>z1 << (bit + 9);
  ne -= <i32>z1;
  let k1 = select<i64>(SENTINEL, (<i64>ordered(reinterpret<i32>(v1)) << INDEX_BITS) | <i64>p, z1);
  at += PW << 2;
  p += PW;
  const v2 = load<f32>(at), z2 = v2 == mn;
  w0 |= <i64>z2 << (bit + 18);
  ne -= <i32>z2;
  let k2 = select<i64>(SENTINEL, (<i64>ordered(reinterpret<i32>(v2)) << INDEX_BITS) | <i64>p, z2);
  at += PW << 2;
  p += PW;
  const v3 = load<f32>(at), z3 = v3 == mn;
  w0 |= <i64>z3 << (bit + 27);
  ne -= <i32>z3;
  let k3 = select<i64>(SENTINEL, (<i64>ordered(reinterpret<i32>(v3)) << INDEX_BITS) | <i64>p, z3);
  at += PW << 2;
  p += PW;
  const v4 = load<f32>(at), z4 = v4 == mn;
  w0 |= <i64>z4 << (bit + 36);
  ne -= <i32>z4;
  let k4 = select<i64>(SENTINEL, (<i64>ordered(reinterpret<i32>(v4)) << INDEX_BITS) | <i64>p, z4);
  at += PW << 2;
  p += PW;
  const v5 = load<f32>(at), z5 = v5 == mn;
  w0 |= <i64>z5 << (bit + 45);
  ne -= <i32>z5;
  let k5 = select<i64>(SENTINEL, (<i64>ordered(reinterpret<i32>(v5)) << INDEX_BITS) | <i64>p, z5);
  at += PW << 2;
  p += PW;
  const v6 = load<f32>(at), z6 = v6 == mn;
  w0 |= <i64>z6 << (bit + 54);
  ne -= <i32>z6;
  let k6 = select<i64>(SENTINEL, (<i64>ordered(reinterpret<i32>(v6)) << INDEX_BITS) | <i64>p, z6);
  at += PW << 2;
  p += PW;
  const v7 = load<f32>(at), z7 = v7 == mn;
  w1 |= <i64>z7 << (bit + 0);
  ne -= <i32>z7;
  let k7 = select<i64>(SENTINEL, (<i64>ordered(reinterpret<i32>(v7)) << INDEX_BITS) | <i64>p, z7);
  at += PW << 2;
  p += PW;
  const v8 = load<f32>(at), z8 = v8 == mn;
  w1 |= <i64>z8 << (bit + 9);
  ne -= <i32>z8;
  let k8 = select<i64>(SENTINEL, (<i64>ordered(reinterpret<i32>(v8)) << INDEX_BITS) | <i64>p, z8);
  let lo: i64 = 0, sw = false;
  sw = k3 < k0;
  lo = select<i64>(k3, k0, sw);
  k3 = select<i64>(k0, k3, sw);
  k0 = lo;
  sw = k7 < k1;
  lo = select<i64>(k7, k1, sw);
  k7 = select<i64>(k1, k7, sw);
  k1 = lo;
  sw = k5 < k2;
  lo = select<i64>(k5, k2, sw);
  k5 = select<i64>(k2, k5, sw);
  k2 = lo;
  sw = k8 < k4;
  lo = select<i64>(k8, k4, sw);
  k8 = select<i64>(k4, k8, sw);
  k4 = lo;
  sw = k7 < k0;
  lo = select<i64>(k7, k0, sw);
  k7 = select<i64>(k0, k7, sw);
  k0 = lo;
  sw = k4 < k2;
  lo = select<i64>(k4, k2, sw);
  k4 = select<i64>(k2, k4, sw);
  k2 = lo;
  sw = k8 < k3;
  lo = select<i64>(k8, k3, sw);
  k8 = select<i64>(k3, k8, sw);
  k3 = lo;
  sw = k6 < k5;
  lo = select<i64>(k6, k5, sw);
  k6 = select<i64>(k5, k6, sw);
  k5 = lo;
  sw = k2 < k0;
  lo = select<i64>(k2, k0, sw);
  k2 = select<i64>(k0, k2, sw);
  k0 = lo;
  sw = k3 < k1;
  lo = select<i64>(k3, k1, sw);
  k3 = select<i64>(k1, k3, sw);
  k1 = lo;
  sw = k5 < k4;
  lo = select<i64>(k5, k4, sw);
  k5 = select<i64>(k4, k5, sw);
  k4 = lo;
  sw = k8 < k7;
  lo = select<i64>(k8, k7, sw);
  k8 = select<i64>(k7, k8, sw);
  k7 = lo;
  sw = k4 < k1;
  lo = select<i64>(k4, k1, sw);
  k4 = select<i64>(k1, k4, sw);
  k1 = lo;
  sw = k6 < k3;
  lo = select<i64>(k6, k3, sw);
  k6 = select<i64>(k3, k6, sw);
  k3 = lo;
  sw = k7 < k5;
  lo = select<i64>(k7, k5, sw);
  k7 = select<i64>(k5, k7, sw);
  k5 = lo;
  sw = k1 < k0;
  lo = select<i64>(k1, k0, sw);
  k1 = select<i64>(k0, k1, sw);
  k0 = lo;
  sw = k4 < k2;
  lo = select<i64>(k4, k2, sw);
  k4 = select<i64>(k2, k4, sw);
  k2 = lo;
  sw = k5 < k3;
  lo = select<i64>(k5, k3, sw);
  k5 = select<i64>(k3, k5, sw);
  k3 = lo;
  sw = k8 < k6;
  lo = select<i64>(k8, k6, sw);
  k8 = select<i64>(k6, k8, sw);
  k6 = lo;
  sw = k3 < k2;
  lo = select<i64>(k3, k2, sw);
  k3 = select<i64>(k2, k3, sw);
  k2 = lo;
  sw = k5 < k4;
  lo = select<i64>(k5, k4, sw);
  k5 = select<i64>(k4, k5, sw);
  k4 = lo;
  sw = k7 < k6;
  lo = select<i64>(k7, k6, sw);
  k7 = select<i64>(k6, k7, sw);
  k6 = lo;
  sw = k2 < k1;
  lo = select<i64>(k2, k1, sw);
  k2 = select<i64>(k1, k2, sw);
  k1 = lo;
  sw = k4 < k3;
  lo = select<i64>(k4, k3, sw);
  k4 = select<i64>(k3, k4, sw);
  k3 = lo;
  sw = k6 < k5;
  lo = select<i64>(k6, k5, sw);
  k6 = select<i64>(k5, k6, sw);
  k5 = lo;
  store<i64>(masks, w0);
  store<i64>(masks, w1, 8);
  store<i64>(ekey, k0, 0);
  store<i64>(ekey, k1, 8);
  store<i64>(ekey, k2, 16);
  store<i64>(ekey, k3, 24);
  store<i64>(ekey, k4, 32);
  store<i64>(ekey, k5, 40);
  store<i64>(ekey, k6, 48);
  store<i64>(ekey, k7, 56);
  store<i64>(ekey, k8, 64);
  store<i64>(ekey, SENTINEL, 72);
  return ne | ((<i32>popcnt(w0) + <i32>popcnt(w1)) << 16);
}

// Entering bottom row of a down step to the window at column sx (band already moved down): the
// masks are rebuilt from the whole window, the bottom row's other values sorted into the list.
// Returns ne | Z << 16.
// @ts-ignore: decorator
@inline function enterRow(base: usize, sx: i32, PW: i32): i32 {
  const T = gT, rpw = gRpw, nw = gNw, masks = gMasks, mn = gMn, top = T - 1;
  let ne = 0, Z = 0;
  for (let w = 0; w < nw; w++) {
    let m: i64 = 0;
    const d1 = min(T, (w + 1) * rpw);
    for (let dy = w * rpw; dy < d1; dy++) {
      const sh = (dy - w * rpw) * T;
      for (let dx = 0; dx < T; dx++) {
        const p = dy * PW + sx + dx, v = load<f32>(base + (p << 2));
        if (v == mn) m |= <i64>1 << <i64>(sh + dx);
        else if (dy == top) {
          enterKey((<i64>ordered(reinterpret<i32>(v)) << INDEX_BITS) | <i64>p, ne++);
        }
      }
    }
    store<i64>(masks + (w << 3), m);
    Z += <i32>popcnt(m);
  }
  store<i64>(gEkey + (ne << 3), SENTINEL);
  return ne | (Z << 16);
}

// Minima of the window whose sums start at accWin: rank = number of minima before them in
// raster order; ranks below z0 add an error of exactly 0 and are skipped.
// @ts-ignore: decorator
@inline function addMinima(accWin: usize, Z: i32, z0: i32, rz: usize): void {
  if (Z <= z0) return;
  const T = gT, rpw = gRpw, nw = gNw, masks = gMasks;
  let skip = z0, z = rz + (z0 << 3);
  let row = accWin - ((rpw * T) << 3);
  for (let w = 0; w < nw; w++) {
    let m = load<i64>(masks + (w << 3));
    row += (rpw * T) << 3;
    const c = <i32>popcnt(m);
    if (skip >= c) {
      skip -= c;
      continue;
    }
    for (; skip > 0; skip--) m &= m - 1;
    while (m != 0) {
      const ad = row + (<i32>ctz(m) << 3);
      store<f64>(ad, load<f64>(ad) + load<f64>(z));
      z += 8;
      m &= m - 1;
    }
  }
}

// Rank matching of `rows` rows of windows for nch channels: adds every value's error
// |x − ref[c, rank(x)]| (float64) to acc[row·rowBytes + (window·T² + k)·8]. `band` points at
// padded[c0][i][0]; channels are `plane` bytes apart; mins/ref point at channel c0's entries.
// Per channel the window snakes through the rows (right along even rows, one step down, left along
// odd rows), so the sorted list is built once per channel and call. Minima are ranked by masks
// when useMasks (T ≤ 31), else every value goes through the sorted list.
export function rank(
  band: usize,
  plane: i32,
  nch: i32,
  mins: usize,
  ref: usize,
  acc: usize,
  scr: usize,
  W: i32,
  T: i32,
  PW: i32,
  useMasks: i32,
  rows: i32,
  rowBytes: i32,
): void {
  const area = T * T, top = T - 1;
  // Mask words: `rpw` window rows of T bits each per i64, bit (row·T + dx).
  const rpw = useMasks ? 64 / T : 1, nw = (T + rpw - 1) / rpw;
  const keysA = scr, keysB = keysA + ((area + 1) << 3), ekey = keysB + ((area + 1) << 3);
  const masks = ekey + ((T + 1) << 3), xOf = masks + (T << 3), kOf = xOf + ((T * PW) << 2);
  const rf = kOf + ((T * PW) << 2), rz = rf + (area << 3), dummy = rz + (area << 3);
  gMasks = masks;
  gEkey = ekey;
  gRpw = rpw;
  gNw = nw;
  gT = T;
  for (let dy = 0; dy < T; dy++) {
    for (let x = 0; x < PW; x++) {
      store<i32>(xOf + ((dy * PW + x) << 2), x);
      store<i32>(kOf + ((dy * PW + x) << 2), (dy * T + x) << 3);
    }
  }
  // Bits kept when every row's field shifts right (all but its last column) or left (all but its
  // first column), before the entering column is set.
  let keepR: i64 = 0, keepL: i64 = 0;
  for (let r = 0; r < rpw; r++) {
    keepR |= ((<i64>1 << <i64>top) - 1) << <i64>(r * T);
    keepL |= ((<i64>1 << <i64>top) - 1) << <i64>(r * T + 1);
  }
  const accStep = (area - 1) << 3; // acc byte address = accRow + sx·(T²−1)·8 + kOf[p]
  const down: i64 = <i64>PW, net9 = T == 9 && useMasks != 0;
  for (let ch = 0; ch < nch; ch++) {
    const base0 = band + ch * plane, refc = ref + ch * area * 4;
    const mn: f32 = useMasks ? load<f32>(mins + (ch << 2)) : NaN;
    gMn = mn;
    const mnd: f64 = <f64>mn;
    // A minimum's error |mn − ref[rank]| is 0 for every rank below z0 (the reference of a
    // zero-heavy channel is the minimum for most low ranks): adding 0 changes nothing (acc is
    // never −0), so those minima are skipped.
    let z0 = area;
    for (let k = area - 1; k >= 0; k--) {
      const q = <f64>load<f32>(refc + (k << 2)), e = abs(mnd - q);
      store<f64>(rf + (k << 3), q);
      store<f64>(rz + (k << 3), e);
      if (e != 0) z0 = k;
    }
    let keys = keysA, nkeys = keysB;
    let n = 0;
    for (let w = 0; w < nw; w++) store<i64>(masks + (w << 3), 0);
    // Fill: columns 0..T−2 of row 0 enter without errors.
    for (let xe = 0; xe < top; xe++) {
      const ne = enterColumn(base0, xe, PW, true, keepR) & 0xffff;
      store<i64>(keys + (n << 3), SENTINEL);
      const total = n + ne;
      let a = 0, b = 0;
      for (let it = 0; it < total; it++) {
        const ka = load<i64>(keys + (a << 3)), kb = load<i64>(ekey + (b << 3));
        const tb = kb < ka;
        store<i64>(nkeys + (it << 3), select<i64>(kb, ka, tb));
        b += <i32>tb;
        a += <i32>!tb;
      }
      n = total;
      const tk = keys;
      keys = nkeys;
      nkeys = tk;
    }
    for (let row = 0; row < rows; row++) {
      const base = base0 + row * PW * 4, accRow = acc + row * rowBytes;
      const right = (row & 1) == 0;
      let sx = right ? 0 : W - 1;
      if (row > 0) {
        // Down step at column sx: the top row leaves, every other key's band index moves up one
        // row (a uniform subtraction keeps the order), the new bottom row enters.
        const nz = enterRow(base, sx, PW), ne = nz & 0xffff, Z = nz >> 16;
        store<i64>(keys + (n << 3), SENTINEL);
        const total = n + ne, rr = rf + (Z << 3), accw = accRow + sx * accStep;
        let a = 0, b = 0, r = 0;
        for (let it = 0; it < total; it++) {
          const ka0 = load<i64>(keys + (a << 3)), ka = ka0 - down;
          const kb = load<i64>(ekey + (b << 3));
          const tb = kb < ka, key = select<i64>(kb, ka, tb);
          const stay = tb | ((<i32>ka0 & INDEX_MASK) >= PW);
          // A leaving key's index wrapped below 0: read at index 0 instead (its error is dropped).
          const p = select<i32>(<i32>key & INDEX_MASK, 0, stay);
          b += <i32>tb;
          a += <i32>!tb;
          store<i64>(nkeys + (r << 3), key);
          const ad = select<usize>(accw + load<i32>(kOf + (p << 2)), dummy, stay);
          const e = abs(<f64>keyValue(key) - load<f64>(rr + (r << 3)));
          store<f64>(ad, load<f64>(ad) + e);
          r += <i32>stay;
        }
        n = r;
        const tk = keys;
        keys = nkeys;
        nkeys = tk;
        addMinima(accRow + sx * (area << 3), Z, z0, rz);
        sx += right ? 1 : -1;
      }
      const step = right ? 1 : -1, end = right ? W : -1;
      for (; sx != end; sx += step) {
        // Right: column sx+T−1 enters, sx−1 leaves; left: column sx enters, sx+T leaves.
        const xe = right ? sx + top : sx, xl = right ? sx - 1 : sx + T;
        const keep = right ? keepR : keepL;
        const nz = net9
          ? enterColumn9(base, xe, PW, right, keep)
          : enterColumn(base, xe, PW, right, keep);
        const ne = nz & 0xffff, Z = nz >> 16;
        store<i64>(keys + (n << 3), SENTINEL);
        const total = n + ne, rr = rf + (Z << 3), accw = accRow + sx * accStep;
        let a = 0, b = 0, r = 0;
        // Merge: drop the leaving column, insert the entering one, add every value's error.
        for (let it = 0; it < total; it++) {
          const ka = load<i64>(keys + (a << 3)), kb = load<i64>(ekey + (b << 3));
          const tb = kb < ka, key = select<i64>(kb, ka, tb);
          const p = <i32>key & INDEX_MASK;
          b += <i32>tb;
          a += <i32>!tb;
          store<i64>(nkeys + (r << 3), key);
          const stay = load<i32>(xOf + (p << 2)) != xl;
          const ad = select<usize>(accw + load<i32>(kOf + (p << 2)), dummy, stay);
          const e = abs(<f64>keyValue(key) - load<f64>(rr + (r << 3)));
          store<f64>(ad, load<f64>(ad) + e);
          r += <i32>stay;
        }
        n = r;
        const tk = keys;
        keys = nkeys;
        nkeys = tk;
        addMinima(accRow + sx * (area << 3), Z, z0, rz);
      }
    }
  }
}

// Bytes of scratch `median` needs for `tiles` tiles of patch T.
export function medianScratchBytes(T: i32, tiles: i32): i32 {
  return tiles * T * T * 4 + tiles * 8;
}

// Median reference of one channel into out[0..T²): for every rank, the lower median over the
// ty×tx complete tiles of that rank's value. `tile0` points at the channel's (unpadded) pixel (0,0)
// in a plane of row pitch PW. Values equal to the minimum mn come first in every sorted tile, so
// only the others are sorted, and a rank held by the minimum in most tiles needs no selection.
export function median(
  tile0: usize,
  PW: i32,
  T: i32,
  ty: i32,
  tx: i32,
  mn: f32,
  out: usize,
  scr: usize,
): void {
  const area = T * T, tiles = ty * tx, mid = (tiles - 1) >> 1;
  const sorted = scr, minCount = sorted + tiles * area * 4, column = minCount + tiles * 4;
  for (let t = 0; t < tiles; t++) {
    const o = sorted + t * area * 4;
    const row0 = tile0 + ((((t / tx) * T) * PW + (t % tx) * T) << 2);
    let n = 0;
    for (let dy = 0; dy < T; dy++) {
      const row = row0 + ((dy * PW) << 2);
      for (let dx = 0; dx < T; dx++) {
        const v = load<f32>(row + (dx << 2));
        if (v == mn) continue;
        let k = n++; // insertion sort: tiles hold few non-minimum values
        while (k > 0) {
          const prev = load<f32>(o + ((k - 1) << 2));
          if (prev <= v) break;
          store<f32>(o + (k << 2), prev);
          k--;
        }
        store<f32>(o + (k << 2), v);
      }
    }
    store<i32>(minCount + (t << 2), area - n);
  }
  for (let r = 0; r < area; r++) {
    let m0 = 0, n = 0;
    for (let t = 0; t < tiles; t++) {
      const z = load<i32>(minCount + (t << 2));
      if (z > r) m0++;
      else {
        store<f32>(column + (n << 2), load<f32>(sorted + ((t * area + r - z) << 2)));
        n++;
      }
    }
    store<f32>(out + (r << 2), m0 > mid ? mn : selectKth(column, n, mid - m0));
  }
}

// The k-th smallest of a[0..n) (quickselect; reorders a).
function selectKth(a: usize, n: i32, k: i32): f32 {
  let lo = 0, hi = n - 1;
  while (hi > lo) {
    const pivot = load<f32>(a + (((lo + hi) >> 1) << 2));
    let i = lo, j = hi;
    while (i <= j) {
      while (load<f32>(a + (i << 2)) < pivot) i++;
      while (load<f32>(a + (j << 2)) > pivot) j--;
      if (i <= j) {
        const t = load<f32>(a + (i << 2));
        store<f32>(a + (i << 2), load<f32>(a + (j << 2)));
        store<f32>(a + (j << 2), t);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return load<f32>(a + (k << 2));
  }
  return load<f32>(a + (k << 2));
}

// ---------------------------------------------------------------------------------------------
// rankBand: the same sums as `rank` (minima by masks, T ≤ 31), computed value by value instead of
// window by window. For one row of windows, every non-minimum value of the band (the T padded rows
// the windows cover) is visited once, in ascending key order (value, then raster index: the
// stable order); each window keeps a counter that starts at its count of minima, so when a value
// is visited the counter of every window holding it is that value's rank there. The value then
// adds |x − ref[rank]| to each of those ≤ T windows (consecutive windows, a constant stride apart
// in acc). The band's sorted list moves down a row by one merge (the top row leaves, every other
// key's band index moves up a row, the sorted new bottom row enters). Minima: as in `rank`, ranks
// below z0 add exactly 0 and are skipped; the others are found through per-row bit masks.
// Every (window, position) still gets one addition per channel, channels in order, so the sums are
// bit-identical to `rank`'s.

// Scratch layout of rankBand (byte offsets), set by bandLayout().
let bL0: i32 = 0;
let bL1: i32 = 0;
let bNew: i32 = 0;
let bKOf: i32 = 0;
let bXOf: i32 = 0;
let bColZ: i32 = 0;
let bCw: i32 = 0;
let bZs: i32 = 0;
let bMask: i32 = 0;
let bMB: i32 = 0;
let bSlot: i32 = 0;
let bRf: i32 = 0;
let bRz: i32 = 0;

// @ts-ignore: decorator
@inline function a64(n: i32): i32 {
  return (n + 63) & ~63;
}

function bandLayout(T: i32, PW: i32): i32 {
  const half = T >> 1, W = PW - 2 * half, area = T * T, band = T * PW;
  let at = 0;
  bL0 = at;
  at += a64((band + 1) << 3);
  bL1 = at;
  at += a64((band + 1) << 3);
  bNew = at;
  at += a64((PW + 1) << 3);
  bKOf = at;
  at += a64(band << 2);
  bXOf = at;
  at += a64(band << 2);
  bColZ = at;
  at += a64(PW << 2);
  bCw = at;
  at += a64(W << 2);
  bZs = at;
  at += a64(W << 2);
  bMB = ((PW + 7) >> 3) + 8; // a row's bits, and 8 bytes so that any 64-bit read stays inside
  bMask = at;
  at += a64(T * bMB);
  bSlot = at;
  at += a64(T << 2);
  bRf = at;
  at += a64(area << 3);
  bRz = at;
  at += a64(area << 3);
  return at;
}

// Sort the non-minimum values of padded row `row` (PW floats) into keys at `out` (band index
// dy·PW + x; insertion sort), set its minima bits at `mask` and add them to colZ; returns the
// count, with a sentinel after the last key.
function bandRow(row: usize, dy: i32, PW: i32, mn: f32, out: usize, mask: usize, colZ: usize): i32 {
  memory.fill(mask, 0, bMB);
  let n = 0;
  for (let x = 0; x < PW; x++) {
    const v = load<f32>(row + (x << 2));
    if (v == mn) {
      const mb = mask + (x >> 3);
      store<u8>(mb, <u8>(<i32>load<u8>(mb) | (1 << (x & 7))));
      const cz = colZ + (x << 2);
      store<i32>(cz, load<i32>(cz) + 1);
      continue;
    }
    const key = (<i64>ordered(reinterpret<i32>(v)) << INDEX_BITS) | <i64>(dy * PW + x);
    let k = n++;
    while (k > 0) {
      const prev = load<i64>(out + ((k - 1) << 3));
      if (prev < key) break;
      store<i64>(out + (k << 3), prev);
      k--;
    }
    store<i64>(out + (k << 3), key);
  }
  store<i64>(out + (n << 3), SENTINEL);
  return n;
}

// Rank matching of `rows` rows of windows for nch channels (T ≤ 31): the same arguments and sums
// as `rank` with useMasks.
export function rankBand(
  band: usize,
  plane: i32,
  nch: i32,
  mins: usize,
  ref: usize,
  acc: usize,
  scr: usize,
  W: i32,
  T: i32,
  PW: i32,
  rows: i32,
  rowBytes: i32,
): void {
  bandLayout(T, PW);
  const area = T * T, top = T - 1, bandN = T * PW, tmask: u64 = (<u64>1 << <u64>T) - 1;
  const kOf = scr + bKOf, xOf = scr + bXOf, colZ = scr + bColZ, cw = scr + bCw, Zs = scr + bZs;
  const masks = scr + bMask, slots = scr + bSlot, rf = scr + bRf, rz = scr + bRz;
  const newRow = scr + bNew, MB = bMB;
  for (let p = 0; p < bandN; p++) {
    const dy = p / PW, x = p - dy * PW;
    store<i32>(xOf + (p << 2), x);
    store<i32>(kOf + (p << 2), (dy * T + x) << 3);
  }
  const winStep = (area - 1) << 3; // acc bytes from window sx to sx+1 at the same value
  for (let ch = 0; ch < nch; ch++) {
    const base0 = band + ch * plane, refc = ref + ch * area * 4;
    const mn: f32 = load<f32>(mins + (ch << 2));
    const mnd: f64 = <f64>mn;
    let z0 = area;
    for (let k = area - 1; k >= 0; k--) {
      const q = <f64>load<f32>(refc + (k << 2)), e = abs(mnd - q);
      store<f64>(rf + (k << 3), q);
      store<f64>(rz + (k << 3), e);
      if (e != 0) z0 = k;
    }
    // The band of row 0: its T rows merged in one by one.
    let list = scr + bL0, other = scr + bL1, n = 0;
    store<i64>(list, SENTINEL);
    memory.fill(colZ, 0, PW << 2);
    for (let dy = 0; dy < T; dy++) {
      const ne = bandRow(base0 + ((dy * PW) << 2), dy, PW, mn, newRow, masks + dy * MB, colZ);
      let a = 0, b = 0;
      const total = n + ne;
      for (let it = 0; it < total; it++) {
        const ka = load<i64>(list + (a << 3)), kb = load<i64>(newRow + (b << 3));
        const tb = kb < ka;
        store<i64>(other + (it << 3), select<i64>(kb, ka, tb));
        b += <i32>tb;
        a += <i32>!tb;
      }
      n = total;
      store<i64>(other + (n << 3), SENTINEL);
      const t = list;
      list = other;
      other = t;
    }
    for (let row = 0; row < rows; row++) {
      const base = base0 + row * PW * 4, accRow = acc + row * rowBytes;
      if (row > 0) {
        // Down: the top row (padded row row−1) leaves, the bottom row (row+T−1) enters; its mask
        // takes the leaving row's slot ((row−1) mod T).
        const gone = base - (PW << 2);
        for (let x = 0; x < PW; x++) {
          if (load<f32>(gone + (x << 2)) == mn) {
            const cz = colZ + (x << 2);
            store<i32>(cz, load<i32>(cz) - 1);
          }
        }
        const slot = masks + ((row - 1) % T) * MB;
        const ne = bandRow(base + ((top * PW) << 2), top, PW, mn, newRow, slot, colZ);
        const total = n + ne;
        let a = 0, b = 0, w = 0;
        for (let it = 0; it < total; it++) {
          const ka0 = load<i64>(list + (a << 3)), ka = ka0 - <i64>PW;
          const kb = load<i64>(newRow + (b << 3));
          const tb = kb < ka;
          // A key of the leaving row wrapped below index 0: dropped.
          const keep = tb | ((<i32>ka0 & INDEX_MASK) >= PW);
          store<i64>(other + (w << 3), select<i64>(kb, ka, tb));
          w += <i32>keep;
          b += <i32>tb;
          a += <i32>!tb;
        }
        n = w;
        store<i64>(other + (n << 3), SENTINEL);
        const t = list;
        list = other;
        other = t;
      }
      // Band row dy of this row of windows lives in mask slot (row + dy) mod T.
      for (let dy = 0; dy < T; dy++) store<i32>(slots + (dy << 2), masks + ((row + dy) % T) * MB);
      // Minima per window; every window's counter starts there.
      let z = 0;
      for (let x = 0; x < top; x++) z += load<i32>(colZ + (x << 2));
      for (let sx = 0; sx < W; sx++) {
        z += load<i32>(colZ + ((sx + top) << 2));
        store<i32>(cw + (sx << 2), z);
        store<i32>(Zs + (sx << 2), z);
        z -= load<i32>(colZ + (sx << 2));
      }
      // Every non-minimum value, ascending: its rank in each window holding it.
      for (let i = 0; i < n; i++) {
        const key = load<i64>(list + (i << 3));
        const p = <i32>key & INDEX_MASK;
        const x = load<i32>(xOf + (p << 2));
        const v = <f64>keyValue(key);
        const lo = max(0, x - top), hi = min(W - 1, x);
        let ad = accRow + lo * winStep + load<i32>(kOf + (p << 2));
        let c = cw + (lo << 2);
        for (let sx = lo; sx <= hi; sx++) {
          const r = load<i32>(c);
          store<i32>(c, r + 1);
          store<f64>(ad, load<f64>(ad) + abs(v - load<f64>(rf + (r << 3))));
          ad += winStep;
          c += 4;
        }
      }
      // Minima of ranks ≥ z0 (raster order among the window's minima).
      for (let sx = 0; sx < W; sx++) {
        const Z = load<i32>(Zs + (sx << 2));
        if (Z <= z0) continue;
        const accWin = accRow + sx * (area << 3), byte = sx >> 3, sh = <u64>(sx & 7);
        let cnt = 0;
        for (let dy = 0; dy < T && cnt < Z; dy++) {
          let m = (load<u64>(load<i32>(slots + (dy << 2)) + byte) >>> sh) & tmask;
          const c = <i32>popcnt(m);
          if (cnt + c <= z0) {
            cnt += c;
            continue;
          }
          for (; cnt < z0; cnt++) m &= m - 1;
          const rowAd = accWin + ((dy * T) << 3);
          while (m != 0) {
            const ad = rowAd + (<i32>ctz(m) << 3);
            store<f64>(ad, load<f64>(ad) + load<f64>(rz + (cnt << 3)));
            cnt++;
            m &= m - 1;
          }
        }
      }
    }
  }
}
