// AssemblyScript source of the wasm hot loops of the fast CPU FCA: rank matching and the median
// reference. Rebuild rank_kernel_wasm.ts with `deno run -A --no-lock src/fca/fast/build_wasm.ts`.
//
// Rank matching follows rank_row.ts: values equal to the channel minimum are ranked by bit masks
// (rank = count of minima before them in raster order); the others are kept in a list sorted by
// a unique integer key (order-preserving float bits << 21 | index in the padded band), which
// sorts exactly as a stable sort does (value first, then raster order in the window). The key
// carries the index, so lists hold keys only, and the merge is branch-free. Minima whose rank's
// reference equals the minimum add an error of exactly 0 and are skipped.

const SENTINEL: i64 = i64.MAX_VALUE;
const INDEX_BITS: i64 = 21;
const INDEX_MASK: i32 = (1 << 21) - 1;

// Signed integer with the order of the float32 whose bits are b (−0 never occurs).
// @ts-ignore: decorator
@inline function ordered(b: i32): i32 {
  return b ^ ((b >> 31) & 0x7fffffff);
}

// Bytes of scratch `rank` needs for patch T and padded width PW.
export function scratchBytes(T: i32, PW: i32): i32 {
  const area = T * T;
  return ((area + 1) << 4) + ((T + 1) << 3) + (T << 3) + ((T * PW) << 3) + (area << 4) + 64;
}

// Rank matching of one row of windows for nch channels: adds every value's error
// |x − ref[c, rank(x)]| (float64) to acc[(window·T² + k)]. `band` points at padded[c0][i][0];
// channels are `plane` bytes apart; mins/ref point at channel c0's entries. Minima are ranked
// by masks when useMasks (T ≤ 31), else every value goes through the sorted list.
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
): void {
  const area = T * T, top = T - 1;
  // Mask words: `rpw` window rows of T bits each per i64, bit (row·T + dx).
  const rpw = useMasks ? 64 / T : 1, nw = (T + rpw - 1) / rpw;
  const keysA = scr, keysB = keysA + ((area + 1) << 3), ekey = keysB + ((area + 1) << 3);
  const masks = ekey + ((T + 1) << 3), xOf = masks + (T << 3), kOf = xOf + ((T * PW) << 2);
  const rf = kOf + ((T * PW) << 2), rz = rf + (area << 3), dummy = rz + (area << 3);
  for (let dy = 0; dy < T; dy++) {
    for (let x = 0; x < PW; x++) {
      store<i32>(xOf + ((dy * PW + x) << 2), x);
      store<i32>(kOf + ((dy * PW + x) << 2), (dy * T + x) << 3);
    }
  }
  // Bits of every row's field except its last column (cleared before the entering column is set).
  let keep: i64 = 0;
  for (let r = 0; r < rpw; r++) keep |= ((<i64>1 << <i64>top) - 1) << <i64>(r * T);
  const accStep = (area - 1) << 3; // acc byte address = acc + sx·(T²−1)·8 + kOf[p]
  for (let ch = 0; ch < nch; ch++) {
    const base = band + ch * plane, refc = ref + ch * area * 4;
    const mn: f32 = useMasks ? load<f32>(mins + (ch << 2)) : NaN;
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
    // Steps from sx = −(T−1): the first T−1 only fill the window (no errors added).
    for (let sx = 1 - T; sx < W; sx++) {
      const xe = sx + top, xl = sx - 1;
      let ne = 0, Z = 0;
      for (let w = 0; w < nw; w++) {
        let m = (load<i64>(masks + (w << 3)) >>> 1) & keep;
        const d1 = min(T, (w + 1) * rpw);
        for (let dy = w * rpw; dy < d1; dy++) {
          const p = dy * PW + xe, v = load<f32>(base + (p << 2));
          if (v == mn) {
            m |= <i64>1 << <i64>((dy - w * rpw) * T + top);
            continue;
          }
          const key: i64 = (<i64>ordered(reinterpret<i32>(v)) << INDEX_BITS) | <i64>p;
          let k = ne++;
          while (k > 0) {
            const prev = load<i64>(ekey + ((k - 1) << 3));
            if (prev < key) break;
            store<i64>(ekey + (k << 3), prev);
            k--;
          }
          store<i64>(ekey + (k << 3), key);
        }
        store<i64>(masks + (w << 3), m);
        Z += <i32>popcnt(m);
      }
      store<i64>(ekey + (ne << 3), SENTINEL);
      store<i64>(keys + (n << 3), SENTINEL);
      const total = n + ne;
      let a = 0, b = 0, r = 0;
      if (sx < 0) {
        for (let it = 0; it < total; it++) {
          const ka = load<i64>(keys + (a << 3)), kb = load<i64>(ekey + (b << 3));
          const tb = kb < ka, key = select<i64>(kb, ka, tb);
          b += <i32>tb;
          a += <i32>!tb;
          store<i64>(nkeys + (r << 3), key);
          r += <i32>(load<i32>(xOf + ((<i32>key & INDEX_MASK) << 2)) != xl);
        }
      } else {
        // Merge: drop the leaving column, insert the entering one, add every value's error.
        const rr = rf + (Z << 3), accw = acc + sx * accStep;
        for (let it = 0; it < total; it++) {
          const ka = load<i64>(keys + (a << 3)), kb = load<i64>(ekey + (b << 3));
          const tb = kb < ka, key = select<i64>(kb, ka, tb);
          const p = <i32>key & INDEX_MASK;
          b += <i32>tb;
          a += <i32>!tb;
          store<i64>(nkeys + (r << 3), key);
          const stay = load<i32>(xOf + (p << 2)) != xl;
          const ad = select<usize>(accw + load<i32>(kOf + (p << 2)), dummy, stay);
          const e = abs(<f64>load<f32>(base + (p << 2)) - load<f64>(rr + (r << 3)));
          store<f64>(ad, load<f64>(ad) + e);
          r += <i32>stay;
        }
      }
      n = r;
      const tk = keys;
      keys = nkeys;
      nkeys = tk;
      if (sx < 0) continue;
      // Minima: rank = number of minima before them in raster order; ranks below z0 add 0.
      if (Z <= z0) continue;
      let skip = z0, z = rz + (z0 << 3);
      let row = acc + sx * (area << 3) - ((rpw * T) << 3);
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
