/**
 * Upper quantiles for false-alarm targets: the smallest threshold with at most a fraction `fpr`
 * of the values strictly above it. Exact on an array ({@link upperQuantile}); in bounded memory
 * over a stream of any length with a self-widening histogram ({@link StreamingHistogram}).
 * @module
 */

function checkFpr(fpr: number): void {
  if (!(fpr >= 0 && fpr < 1)) throw new Error(`fpr must be in [0, 1), got ${fpr}`);
}

/**
 * The k-th smallest value with k = ⌈(1 − fpr)·n⌉ (at least 1): then at most ⌊fpr·n⌋ values are
 * strictly above it, and no smaller value of the sample has that property. NaN values are
 * ignored; NaN for an empty sample.
 */
export function upperQuantile(values: ArrayLike<number>, fpr: number): number {
  checkFpr(fpr);
  const s = Float64Array.from(
    Array.prototype.filter.call(values, (v: number) => !Number.isNaN(v)) as number[],
  );
  if (s.length === 0) return NaN;
  s.sort();
  return s[rankFor(s.length, fpr) - 1];
}

/** k = ⌈(1 − fpr)·n⌉ clamped to [1, n], computed without floating-point creep. */
function rankFor(n: number, fpr: number): number {
  const k = Math.ceil((1 - fpr) * n - 1e-9 * n);
  return Math.min(n, Math.max(1, k));
}

/**
 * A histogram of a stream of numbers in bounded memory (`bins` counts, default 65 536): the range
 * starts at the first batch's min..max and doubles (merging neighbour bins, counts stay exact)
 * whenever a value falls outside it. {@link quantile} returns the upper edge of the bin that
 * holds the exact quantile, capped at the largest value seen, so it is never below the exact
 * quantile (at most `fpr` of the values lie strictly above it) and exceeds it by less than one
 * bin width ({@link binWidth}).
 */
export class StreamingHistogram {
  private counts: Float64Array;
  private lo = 0;
  private width = 0;
  private total = 0;
  private min = Infinity;
  private max = -Infinity;

  constructor(readonly bins = 65536) {
    if (!Number.isInteger(bins) || bins < 2 || bins % 2) {
      throw new Error(`bins must be an even integer >= 2, got ${bins}`);
    }
    this.counts = new Float64Array(bins);
  }

  /** Values counted so far. */
  get count(): number {
    return this.total;
  }

  /** Current bin width (0 before the first value). */
  get binWidth(): number {
    return this.width;
  }

  /** Smallest and largest value seen. */
  get range(): { min: number; max: number } {
    return { min: this.min, max: this.max };
  }

  /** Add the values where `valid` is nonzero (all when absent); NaN and ±Infinity are skipped. */
  add(values: ArrayLike<number>, valid?: ArrayLike<number>): void {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if ((valid && !valid[i]) || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo > hi) return;
    if (this.width === 0) {
      const spread = hi - lo;
      this.lo = lo;
      this.width = spread > 0 ? spread / this.bins : Math.max(Math.abs(lo) * 1e-6, 1e-12);
    }
    this.cover(lo);
    this.cover(hi);
    const { counts, bins } = this;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if ((valid && !valid[i]) || !Number.isFinite(v)) continue;
      let b = Math.floor((v - this.lo) / this.width);
      if (b >= bins) b = bins - 1; // rounding at the top edge
      if (b < 0) b = 0;
      counts[b]++;
      this.total++;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
  }

  /** Double the range (towards `v`) until it holds `v`. */
  private cover(v: number): void {
    const { bins } = this;
    while (v < this.lo || v >= this.lo + this.width * bins) {
      const merged = new Float64Array(bins);
      const left = v < this.lo;
      const offset = left ? bins / 2 : 0;
      for (let i = 0; i < bins; i++) merged[offset + (i >> 1)] += this.counts[i];
      if (left) this.lo -= this.width * bins;
      this.width *= 2;
      this.counts = merged;
    }
  }

  /**
   * A threshold with at most a fraction `fpr` of the counted values strictly above it: the upper
   * edge of the bin holding the ⌈(1 − fpr)·n⌉-th smallest value, capped at the largest value.
   * NaN when nothing was counted.
   */
  quantile(fpr: number): number {
    checkFpr(fpr);
    if (this.total === 0) return NaN;
    const k = rankFor(this.total, fpr);
    let cum = 0;
    for (let b = 0; b < this.bins; b++) {
      cum += this.counts[b];
      if (cum >= k) return Math.min(this.lo + (b + 1) * this.width, this.max);
    }
    return this.max;
  }
}
