/**
 * Exact pixel-level metrics over a whole category, in bounded memory: AU-PRO up to an FPR limit
 * (MVTec AD `pro_curve_util.compute_pro` + `trapezoid`), pixel AUROC (sklearn `roc_curve` +
 * `trapezoid`) and the maximum F1 over all thresholds (sklearn `precision_recall_curve`,
 * F1 = 2PR/(P+R+1e-8)).
 *
 * All three are functions of one curve: walking the distinct scores from high to low, the
 * running counts of normal pixels, defect pixels and PRO weight (1/|region| per defect pixel)
 * at or above each score. So the exact answer only needs, per distinct float32 score, those three
 * sums. Scores are mapped to order-preserving uint32 keys ({@link keyOfBits}) and counted in two
 * levels:
 *  1. one pass over all samples counts pixels per high 16 bits of the key (65 536 bins);
 *  2. the non-empty bins, from the highest down, are taken in groups of `slots` bins; one pass
 *     per group fills dense per-key tables (65 536 keys per bin: 2 × uint32 counts + float64
 *     weight = 1 MiB per bin) and the group is walked key by key, feeding the curve.
 * Memory is `slots` MiB plus one sample at a time, whatever the number of pixels or distinct
 * values; the price is one extra pass over the samples per group (FCA maps span a few binades
 * = a few hundred bins, so a handful of passes). Ties are merged exactly as the reference does
 * (one curve point per distinct score), and the PRO curve's FPR is rounded to float32 like the
 * reference's `astype(np.float32)` cumulative sum.
 * @module
 */
import { labelComponents } from "../base/components.ts";
import { keyOfBits, keyToScore } from "./score_key.ts";
import { TrapezoidIntegrator } from "./trapezoid.ts";

/** One scored image, already resized/cropped for scoring. */
export interface EvalSample {
  width: number;
  height: number;
  /** Row-major anomaly scores (`height * width`). */
  scores: Float32Array;
  /** Row-major ground truth, nonzero = defect; null = all normal (a good image). */
  mask: Uint8Array | null;
  /** The detector's image score when it is not the map's maximum (e.g. `--score-border`); image
   * AUROC uses it instead of the maximum of `scores`. */
  imageScore?: number;
}

/** Produces a sample on demand (it is requested once per pass, so it may reload from disk). */
export type SampleLoader = () => EvalSample | Promise<EvalSample>;

/** A sampled curve for plotting (x ascending). */
export interface Curve {
  x: number[];
  y: number[];
}

/** Options of {@link computePixelMetrics}. */
export interface PixelMetricsOptions {
  /** FPR up to which the PRO curve is integrated (default 0.3); the area is divided by it. */
  integrationLimit?: number;
  /** Key bins held per pass (1 MiB each, default 128). */
  slots?: number;
  /** Called after every pass with (pass, total passes). */
  onPass?: (pass: number, total: number) => void;
}

/** Results of {@link computePixelMetrics}; null where a metric is undefined. */
export interface PixelMetrics {
  /** Area under the PRO curve up to the limit, divided by the limit; null without defect regions or normal pixels. */
  auPro: number | null;
  /** Pixel AUROC; null without defect or without normal pixels. */
  pixelAuroc: number | null;
  /** Maximum F1 over all thresholds; null without defect pixels. */
  maxF1: number | null;
  /** The score at which {@link maxF1} is reached (pixels >= it are called defective). */
  maxF1Threshold: number | null;
  okPixels: number;
  defectPixels: number;
  regions: number;
  /** Number of distinct score values (curve points). */
  distinctScores: number;
  /** Passes made over the samples. */
  passes: number;
  /** PRO curve (FPR, PRO) up to just beyond the limit, thinned for plotting. */
  proCurve: Curve;
  /** Pixel ROC curve (FPR, TPR), thinned for plotting. */
  rocCurve: Curve;
  /** Per sample: the maximum score. */
  imageScores: number[];
  /** Per sample: whether its mask has any defect pixel. */
  imageLabels: boolean[];
}

const BIN_BITS = 16;
const BIN_SIZE = 1 << BIN_BITS;
const LOW_MASK = BIN_SIZE - 1;

/** Compute the pixel metrics of a set of samples exactly (see the module comment). */
export async function computePixelMetrics(
  loaders: readonly SampleLoader[],
  opts: PixelMetricsOptions = {},
): Promise<PixelMetrics> {
  const limit = opts.integrationLimit ?? 0.3;
  if (!(limit > 0 && limit <= 1)) {
    throw new Error(`integration limit must be in (0, 1], got ${limit}`);
  }
  const slots = opts.slots ?? 128;
  if (!Number.isInteger(slots) || slots < 1) {
    throw new Error(`slots must be a positive integer, got ${slots}`);
  }

  // Pass 1: coarse histogram, class totals, image scores and labels.
  const coarse = new Float64Array(BIN_SIZE);
  let okPixels = 0, defectPixels = 0, regions = 0;
  const imageScores: number[] = [], imageLabels: boolean[] = [];
  for (let s = 0; s < loaders.length; s++) {
    const sample = checkSample(await loaders[s](), s);
    const bits = bitsOf(sample.scores);
    let maxKey = 0;
    for (let i = 0; i < bits.length; i++) {
      const k = keyOfBits(bits[i]);
      if (k < 0) throw new Error(`sample ${s}: anomaly map contains NaN`);
      coarse[k >>> BIN_BITS]++;
      if (k > maxKey) maxKey = k;
    }
    imageScores.push(sample.imageScore ?? keyToScore(maxKey));
    const w = regionWeights(sample);
    regions += w.regions;
    defectPixels += w.defect;
    okPixels += bits.length - w.defect;
    imageLabels.push(w.defect > 0);
  }
  if (okPixels + defectPixels >= 2 ** 32) {
    throw new Error(`too many pixels (${okPixels + defectPixels}): at most 2^32 - 1 per category`);
  }

  const bins: number[] = [];
  for (let b = BIN_SIZE - 1; b >= 0; b--) if (coarse[b] > 0) bins.push(b);
  const groups = Math.ceil(bins.length / slots);
  const width = Math.min(slots, bins.length);
  const ok = new Uint32Array(width * BIN_SIZE);
  const anom = new Uint32Array(width * BIN_SIZE);
  const pro = new Float64Array(width * BIN_SIZE);
  const slotOf = new Int32Array(BIN_SIZE);
  const walker = new CurveWalker(okPixels, defectPixels, regions, limit);
  opts.onPass?.(1, groups + 1);

  for (let g = 0; g < groups; g++) {
    const groupBins = bins.slice(g * slots, (g + 1) * slots);
    slotOf.fill(-1);
    groupBins.forEach((b, slot) => (slotOf[b] = slot));
    const used = groupBins.length << BIN_BITS;
    ok.fill(0, 0, used);
    anom.fill(0, 0, used);
    pro.fill(0, 0, used);
    for (let s = 0; s < loaders.length; s++) {
      const sample = checkSample(await loaders[s](), s);
      const bits = bitsOf(sample.scores);
      const w = regionWeights(sample);
      for (let i = 0; i < bits.length; i++) {
        const k = keyOfBits(bits[i]);
        const slot = slotOf[k >>> BIN_BITS];
        if (slot < 0) continue;
        const idx = (slot << BIN_BITS) | (k & LOW_MASK);
        const label = w.labels ? w.labels[i] : 0;
        if (label === 0) ok[idx]++;
        else {
          anom[idx]++;
          pro[idx] += w.weight[label];
        }
      }
    }
    for (let slot = 0; slot < groupBins.length; slot++) {
      const base = slot << BIN_BITS;
      let left = coarse[groupBins[slot]]; // stop once every pixel of the bin is seen
      for (let low = LOW_MASK; low >= 0 && left > 0; low--) {
        const idx = base | low;
        if (ok[idx] === 0 && anom[idx] === 0) continue;
        left -= ok[idx] + anom[idx];
        walker.step(ok[idx], anom[idx], pro[idx], ((groupBins[slot] << BIN_BITS) | low) >>> 0);
      }
    }
    opts.onPass?.(g + 2, groups + 1);
  }
  const r = walker.finish();
  return {
    ...r,
    okPixels,
    defectPixels,
    regions,
    passes: groups + 1,
    imageScores,
    imageLabels,
  };
}

function checkSample(s: EvalSample, index: number): EvalSample {
  const n = s.width * s.height;
  if (s.scores.length !== n) {
    throw new Error(`sample ${index}: ${s.scores.length} scores for ${s.width}x${s.height}`);
  }
  if (s.mask && s.mask.length !== n) {
    throw new Error(`sample ${index}: mask has ${s.mask.length} values for ${s.width}x${s.height}`);
  }
  return s;
}

/** The scores' bit patterns (a view when aligned, else a copy). */
function bitsOf(scores: Float32Array): Uint32Array {
  if (scores.byteOffset % 4 === 0) {
    return new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
  }
  return new Uint32Array(scores.slice().buffer);
}

/** Region labels and the PRO weight 1/|region| of each region (index 0 unused). */
function regionWeights(s: EvalSample): {
  labels: Int32Array | null;
  weight: Float64Array;
  regions: number;
  defect: number;
} {
  if (!s.mask || !s.mask.some((v) => v !== 0)) {
    return { labels: null, weight: new Float64Array(1), regions: 0, defect: 0 };
  }
  const c = labelComponents(s.mask, s.width, s.height);
  const weight = new Float64Array(c.count + 1);
  let defect = 0;
  for (let k = 1; k <= c.count; k++) {
    weight[k] = 1 / c.sizes[k];
    defect += c.sizes[k];
  }
  return { labels: c.labels, weight, regions: c.count, defect };
}

/** Running state of the walk over distinct scores, from the highest down. */
class CurveWalker {
  private cumOk = 0;
  private cumAnom = 0;
  private cumPro = 0;
  private distinct = 0;
  private readonly roc = new TrapezoidIntegrator();
  private readonly proArea: TrapezoidIntegrator;
  private bestF1 = -1;
  private bestKey = 0;
  private readonly rocPlot: Curve = { x: [0], y: [0] };
  private readonly proPlot: Curve = { x: [0], y: [0] };
  private proPastLimit = false;
  private readonly numOk32: number;

  constructor(
    private readonly numOk: number,
    private readonly numAnom: number,
    private readonly numRegions: number,
    private readonly limit: number,
  ) {
    this.proArea = new TrapezoidIntegrator(limit);
    this.roc.add(0, 0);
    this.proArea.add(0, 0);
    this.numOk32 = Math.fround(numOk);
  }

  step(okCount: number, anomCount: number, proWeight: number, key: number): void {
    this.distinct++;
    this.cumOk += okCount;
    this.cumAnom += anomCount;
    this.cumPro += proWeight;
    // ROC (sklearn): float64 rates; undefined without both classes.
    const x = this.cumOk / this.numOk, y = this.cumAnom / this.numAnom;
    this.roc.add(x, y);
    thin(this.rocPlot, x, y, 1e-3);
    // Max F1 (sklearn precision_recall_curve): np.argmax takes the lowest threshold on ties.
    if (this.cumAnom > 0) {
      const p = this.cumAnom / (this.cumAnom + this.cumOk), r = this.cumAnom / this.numAnom;
      const f1 = (2 * p * r) / (p + r + 1e-8);
      if (f1 >= this.bestF1) {
        this.bestF1 = f1;
        this.bestKey = key;
      }
    }
    // PRO (compute_pro): FPR from a float32 cumulative count divided in float32; both clipped to 1.
    const fpr = Math.min(Math.fround(Math.fround(this.cumOk) / this.numOk32), 1);
    const pro = Math.min(this.cumPro / this.numRegions, 1);
    this.proArea.add(fpr, pro);
    if (!this.proPastLimit) {
      thin(this.proPlot, fpr, pro, this.limit * 1e-3);
      if (fpr > this.limit) {
        this.proPastLimit = true;
        pushPoint(this.proPlot, fpr, pro);
      }
    }
  }

  finish() {
    this.proArea.add(1, 1);
    const haveBoth = this.numOk > 0 && this.numAnom > 0;
    pushPoint(this.rocPlot, 1, 1);
    if (!this.proPastLimit) pushPoint(this.proPlot, 1, 1);
    return {
      auPro: haveBoth && this.numRegions > 0 ? this.proArea.area() / this.limit : null,
      pixelAuroc: haveBoth ? this.roc.area() : null,
      maxF1: this.numAnom > 0 ? this.bestF1 : null,
      maxF1Threshold: this.numAnom > 0 ? keyToScore(this.bestKey) : null,
      distinctScores: this.distinct,
      proCurve: this.proPlot,
      rocCurve: this.rocPlot,
    };
  }
}

/** Append (x, y) when it moved at least `eps` from the last kept point. */
function thin(c: Curve, x: number, y: number, eps: number): void {
  const n = c.x.length;
  if (Math.abs(x - c.x[n - 1]) >= eps || Math.abs(y - c.y[n - 1]) >= eps) pushPoint(c, x, y);
}

function pushPoint(c: Curve, x: number, y: number): void {
  const n = c.x.length;
  if (n > 0 && c.x[n - 1] === x && c.y[n - 1] === y) return;
  c.x.push(x);
  c.y.push(y);
}
