/**
 * Fast stable argsort of short float32 rows (FCA/SWW windows): each value's float32 bit pattern is
 * mapped to an order-preserving unsigned integer and packed with its index into one exactly
 * representable float64 key, so the native numeric sort of a Float64Array yields ascending values
 * with ties in index (raster) order, with no comparator callback.
 * @module
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Order-preserving unsigned key of a float32 (−0 and +0 map together). */
function sortableBits(v: number): number {
  F32[0] = v === 0 ? 0 : v;
  const u = U32[0];
  return u & 0x80000000 ? (~u >>> 0) : (u | 0x80000000) >>> 0;
}

/**
 * Write into `order` the indices of `values[offset .. offset+n)` sorted ascending, ties by index.
 * `keys` is scratch of length ≥ n. NaN is not supported (features are validated upstream).
 */
export function stableArgsort(
  values: ArrayLike<number>,
  offset: number,
  n: number,
  keys: Float64Array,
  order: Int32Array,
): void {
  let shift = 1;
  while (shift < n) shift *= 2;
  const row = keys.subarray(0, n);
  for (let k = 0; k < n; k++) row[k] = sortableBits(values[offset + k]) * shift + k;
  row.sort();
  for (let k = 0; k < n; k++) order[k] = row[k] % shift;
}
