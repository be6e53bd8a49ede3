/**
 * Calibration from defect-free images: feed their maps one by one (bounded memory: a pixel
 * histogram and one score per image), then read the thresholds for a false-alarm target.
 * @module
 */
import type { ScalarMap } from "../fca/types.ts";
import { interiorMask, regionScore } from "./regions.ts";
import { StreamingHistogram, upperQuantile } from "./quantile.ts";
import type { Profile, ProfileSettings } from "./profile.ts";

/** Below this many good images the thresholds are flagged as rough. */
export const MIN_CALIBRATION_IMAGES = 20;

/** Options of a {@link Calibrator}. */
export interface CalibratorOptions {
  /** Target false-alarm rate (default 0.01). */
  fpr?: number;
  /** Decision settings the image scores are computed with (defaults 1 and 0). */
  minArea?: number;
  border?: number;
  /** Histogram bins of the pixel quantile (default 65 536). */
  bins?: number;
}

/** Accumulates good images' maps into a {@link Profile}. */
export class Calibrator {
  readonly fpr: number;
  readonly minArea: number;
  readonly border: number;
  private readonly hist: StreamingHistogram;
  private readonly scores: number[] = [];

  constructor(opts: CalibratorOptions = {}) {
    this.fpr = opts.fpr ?? 0.01;
    if (!(this.fpr > 0 && this.fpr < 1)) throw new Error(`fpr must be in (0, 1), got ${this.fpr}`);
    this.minArea = opts.minArea ?? 1;
    this.border = opts.border ?? 0;
    this.hist = new StreamingHistogram(opts.bins);
  }

  /** Good images added so far. */
  get images(): number {
    return this.scores.length;
  }

  /** Add the map of one defect-free image; returns its image (region) score. */
  add(map: ScalarMap): number {
    const valid = this.border > 0 ? interiorMask(map.width, map.height, this.border) : undefined;
    this.hist.add(map.data, valid);
    const s = regionScore(map, this.minArea, this.border);
    this.scores.push(s);
    return s;
  }

  /** Warnings about the estimate (e.g. too few images). */
  warnings(): string[] {
    const n = this.scores.length;
    const w: string[] = [];
    if (n < MIN_CALIBRATION_IMAGES) {
      w.push(
        `only ${n} good image${n === 1 ? "" : "s"}: the thresholds are a rough estimate ` +
          `(use at least ${MIN_CALIBRATION_IMAGES})`,
      );
    }
    if (n > 0 && this.fpr * n < 1) {
      w.push(
        `fpr ${this.fpr} with ${n} images: the image threshold is the highest good score ` +
          `(need ${Math.ceil(1 / this.fpr)} images to resolve this rate)`,
      );
    }
    return w;
  }

  /** The profile of the images added so far. Throws when none was added. */
  profile(meta: { settings: ProfileSettings; modelSha256: string; created?: string }): Profile {
    const n = this.scores.length;
    if (n === 0) throw new Error("calibration needs at least one good image");
    const finite = this.scores.filter(Number.isFinite);
    return {
      format: "fca-profile",
      version: 1,
      fpr: this.fpr,
      images: n,
      pixel: {
        threshold: this.hist.quantile(this.fpr),
        pixels: this.hist.count,
        binWidth: this.hist.binWidth,
        method: "histogram",
      },
      image: {
        threshold: upperQuantile(finite, this.fpr),
        min: Math.min(...finite),
        max: Math.max(...finite),
        method: "exact",
      },
      minArea: this.minArea,
      border: this.border,
      settings: meta.settings,
      modelSha256: meta.modelSha256,
      created: meta.created ?? new Date().toISOString(),
    };
  }
}
