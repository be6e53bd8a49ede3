/**
 * Order-preserving 32-bit keys of float32 scores, so exact per-value histograms can be indexed by
 * integers: `a < b` as floats ⇔ `key(a) < key(b)` as unsigned integers.
 * @module
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * Key of one float32 bit pattern. −0 maps to the key of +0 (they are the same threshold);
 * NaN bit patterns return −1 so callers can reject them.
 */
export function keyOfBits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return -1;
  if (bits === 0x80000000) bits = 0;
  return (bits & 0x80000000) ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/** Key of a number (rounded to float32 first). */
export function scoreKey(value: number): number {
  F32[0] = value;
  return keyOfBits(U32[0]);
}

/** The float32 value whose key is `key` (inverse of {@link scoreKey}). */
export function keyToScore(key: number): number {
  U32[0] = (key & 0x80000000) ? (key & 0x7fffffff) >>> 0 : ~key >>> 0;
  return F32[0];
}
