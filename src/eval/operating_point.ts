/**
 * Metrics at one operating point (a threshold per image, e.g. the zero-shot rule's or a profile's):
 * pooled-pixel mask F1 and IoU, per-region recall, and image-level precision/recall/accuracy of
 * the verdict; plus the per-image JSON lines (`images.jsonl`).
 *
 * The predicted mask of an image is the union of its kept regions (src/decision/regions.ts:
 * 8-connected components of `map > threshold` outside the border band, at least `minArea`
 * pixels); the verdict is "defect" when it is not empty.
 * @module
 */
import type { EvalSample } from "./pixel_metrics.ts";
import { labelComponents } from "../base/components.ts";
import { findRegions, regionScore } from "../decision/regions.ts";
import {
  DEFAULT_ZERO_SHOT_RULE,
  type ZeroShotRule,
  zeroShotThreshold,
} from "../decision/threshold.ts";
import type { DatasetImage } from "./dataset.ts";
import { writeFileAtomic } from "../base/atomic.ts";

/** How the predicted mask is formed from a map and its threshold. */
export interface OperatingPointOptions {
  /** Regions with fewer pixels are dropped (default 1). */
  minArea?: number;
  /** Border band (pixels) that never counts as anomalous (default 0). */
  border?: number;
}

/** The outcome for one image. */
export interface ImageOutcome {
  verdict: "defect" | "ok";
  /** Whether the ground truth has a defect pixel. */
  defective: boolean;
  /** Predicted / true / overlapping defect pixels. */
  predicted: number;
  truth: number;
  overlap: number;
  /** Mask F1 of this image; null for a good image (no true defect pixel). */
  maskF1: number | null;
  /** Ground-truth regions (8-connected) and how many the prediction touches. */
  regions: number;
  regionsHit: number;
}

/** Metrics at the operating point; null where undefined (e.g. no defective image). */
export interface OperatingPointMetrics {
  images: number;
  /** Pooled over all pixels of all images. */
  maskF1: number | null;
  maskIoU: number | null;
  pixelPrecision: number | null;
  pixelRecall: number | null;
  /** Fraction of ground-truth regions overlapped by at least one predicted pixel. */
  regionRecall: number | null;
  /** Verdict vs "has a defect pixel". */
  imagePrecision: number | null;
  imageRecall: number | null;
  imageAccuracy: number | null;
  /** Fraction of good images with verdict "defect". */
  falseAlarmRate: number | null;
  counts: {
    tp: number;
    fp: number;
    fn: number;
    regions: number;
    regionsHit: number;
    imageTp: number;
    imageFp: number;
    imageFn: number;
    imageTn: number;
  };
}

/** Compare one sample's prediction at `threshold` with its ground truth. */
export function scoreImage(
  sample: EvalSample,
  threshold: number,
  opts: OperatingPointOptions = {},
): ImageOutcome {
  const { width, height, scores, mask } = sample;
  const pred = findRegions({ width, height, data: scores }, threshold, {
    minArea: opts.minArea,
    border: opts.border,
    maxRegions: 0,
  }).mask;
  let predicted = 0, truth = 0, overlap = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i], t = mask ? (mask[i] ? 1 : 0) : 0;
    predicted += p;
    truth += t;
    overlap += p & t;
  }
  let regions = 0, regionsHit = 0;
  if (mask && truth > 0) {
    const comp = labelComponents(mask, width, height);
    regions = comp.count;
    const hit = new Uint8Array(comp.count + 1);
    for (let i = 0; i < pred.length; i++) if (pred[i] && comp.labels[i]) hit[comp.labels[i]] = 1;
    for (let k = 1; k <= comp.count; k++) regionsHit += hit[k];
  }
  return {
    verdict: predicted > 0 ? "defect" : "ok",
    defective: truth > 0,
    predicted,
    truth,
    overlap,
    maskF1: truth > 0 ? (2 * overlap) / (predicted + truth) : null,
    regions,
    regionsHit,
  };
}

/** Accumulates {@link ImageOutcome}s into {@link OperatingPointMetrics}. */
export class OperatingPoint {
  private n = 0;
  private tp = 0;
  private fp = 0;
  private fn = 0;
  private regions = 0;
  private regionsHit = 0;
  private imageTp = 0;
  private imageFp = 0;
  private imageFn = 0;
  private imageTn = 0;

  /** Add one image's outcome. */
  add(o: ImageOutcome): void {
    this.n++;
    this.tp += o.overlap;
    this.fp += o.predicted - o.overlap;
    this.fn += o.truth - o.overlap;
    this.regions += o.regions;
    this.regionsHit += o.regionsHit;
    const d = o.verdict === "defect";
    if (o.defective) d ? this.imageTp++ : this.imageFn++;
    else d ? this.imageFp++ : this.imageTn++;
  }

  /** The metrics of the images added so far. */
  result(): OperatingPointMetrics {
    const div = (a: number, b: number) => (b > 0 ? a / b : null);
    const { tp, fp, fn } = this;
    return {
      images: this.n,
      maskF1: div(2 * tp, 2 * tp + fp + fn),
      maskIoU: div(tp, tp + fp + fn),
      pixelPrecision: div(tp, tp + fp),
      pixelRecall: div(tp, tp + fn),
      regionRecall: div(this.regionsHit, this.regions),
      imagePrecision: div(this.imageTp, this.imageTp + this.imageFp),
      imageRecall: div(this.imageTp, this.imageTp + this.imageFn),
      imageAccuracy: div(this.imageTp + this.imageTn, this.n),
      falseAlarmRate: div(this.imageFp, this.imageFp + this.imageTn),
      counts: {
        tp,
        fp,
        fn,
        regions: this.regions,
        regionsHit: this.regionsHit,
        imageTp: this.imageTp,
        imageFp: this.imageFp,
        imageFn: this.imageFn,
        imageTn: this.imageTn,
      },
    };
  }
}

/** One line of `images.jsonl`. */
export interface ImageRecord {
  path: string;
  score: number;
  verdict: "defect" | "ok";
  threshold: { value: number; source: string };
  /** Null for a good image. */
  mask_f1: number | null;
}

/** The JSON line of one image (no trailing newline). */
export function imageRecordLine(r: ImageRecord): string {
  return JSON.stringify({
    path: r.path,
    score: r.score,
    verdict: r.verdict,
    threshold: r.threshold,
    mask_f1: r.mask_f1,
  });
}

/** Write `records` to `path` as one JSON object per line (atomically). */
export async function writeImagesJsonl(
  path: string,
  records: readonly ImageRecord[],
): Promise<void> {
  const text = records.map((r) => imageRecordLine(r) + "\n").join("");
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

/** Options of {@link operatingPointHook}. */
export interface OperatingPointHookOptions extends OperatingPointOptions {
  /** The zero-shot rule (default: the decision's default, src/decision/threshold.ts). */
  rule?: ZeroShotRule;
  /** A profile's threshold, evaluated beside the zero-shot one when given. */
  profileThreshold?: number;
  /** Where that fixed threshold comes from, for the records (default "profile"). */
  fixedSource?: "profile" | "explicit";
}

/** What {@link operatingPointHook} collects. */
export interface OperatingPointHook {
  /** Pass as `HarnessOptions.onSample`. */
  onSample(item: DatasetImage, sample: EvalSample): void;
  /** Metrics at the zero-shot threshold (each image its own). */
  zeroShot: OperatingPoint;
  /** Metrics at the profile's threshold, when one was given. */
  profile: OperatingPoint | null;
  /** One record per image (zero-shot; source "profile" when a profile threshold was given). */
  records: ImageRecord[];
}

/**
 * Operating-point metrics for the eval harness: `evaluateDataset(root, det, {onSample:
 * hook.onSample})`, then `hook.zeroShot.result()` and `writeImagesJsonl(out, hook.records)`.
 * Thresholds and regions are computed on the scored sample (after `--eval-size`/`--crop`), so
 * `minArea` and `border` are in scored pixels.
 */
export function operatingPointHook(opts: OperatingPointHookOptions = {}): OperatingPointHook {
  const rule: ZeroShotRule = {
    ...(opts.rule ?? DEFAULT_ZERO_SHOT_RULE),
    border: opts.border ?? opts.rule?.border,
    minArea: opts.minArea ?? opts.rule?.minArea,
  };
  const hook: OperatingPointHook = {
    zeroShot: new OperatingPoint(),
    profile: opts.profileThreshold === undefined ? null : new OperatingPoint(),
    records: [],
    onSample(item, sample) {
      const map = { width: sample.width, height: sample.height, data: sample.scores };
      const z = zeroShotThreshold(map, rule);
      const zo = scoreImage(sample, z.value, opts);
      hook.zeroShot.add(zo);
      let record: ImageRecord = {
        path: item.imagePath,
        score: regionScore(map, opts.minArea ?? 1, opts.border ?? 0),
        verdict: zo.verdict,
        threshold: { value: z.value, source: "zero-shot" },
        mask_f1: zo.maskF1,
      };
      if (hook.profile && opts.profileThreshold !== undefined) {
        const po = scoreImage(sample, opts.profileThreshold, opts);
        hook.profile.add(po);
        record = {
          ...record,
          verdict: po.verdict,
          threshold: { value: opts.profileThreshold, source: opts.fixedSource ?? "profile" },
          mask_f1: po.maskF1,
        };
      }
      hook.records.push(record);
    },
  };
  return hook;
}
