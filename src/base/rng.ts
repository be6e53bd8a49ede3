/**
 * A small seeded pseudo-random generator (mulberry32) so that random references and random
 * kernels are reproducible from `--seed`. It cannot reproduce torch's RNG stream, so seeded
 * outputs differ from the reference code's draws (which are unseeded there anyway).
 * @module
 */

/** Uniform floats in [0, 1) from a 32-bit seed (mulberry32). */
export function seededUniform(seed: number): () => number {
  return mulberry32((Math.trunc(seed) >>> 0) ^ 0x9e3779b9);
}

/** The mulberry32 generator: uniform floats in [0, 1), the state starting at `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n) drawn from `uniform`. */
export function randomInt(uniform: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(uniform() * n));
}

/** Standard normal samples (Box–Muller) from a 32-bit seed. */
export function seededNormal(seed: number): () => number {
  const u = seededUniform(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u1 = 1 - u(); // (0, 1]: log is finite
    const u2 = u();
    const radius = Math.sqrt(-2 * Math.log(u1));
    spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  };
}
