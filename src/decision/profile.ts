/**
 * Calibration profiles: thresholds measured on defect-free images for a target false-alarm rate,
 * with the settings and model they hold for. Written atomically; loading refuses, in one line, a
 * profile made with other settings or another model.
 * @module
 */
import { writeFileAtomic } from "../base/atomic.ts";

/** Settings that change the map (or the decision), flattened to comparable values. */
export type ProfileSettings = Record<string, string | number | boolean | null>;

/** A calibration profile (the JSON file's content). */
export interface Profile {
  format: "fca-profile";
  version: 1;
  /** Target false-alarm rate the thresholds were set for. */
  fpr: number;
  /** Good images the thresholds come from. */
  images: number;
  /**
   * Pixel level: at most `fpr` of the good images' pixels (outside the border band) lie strictly
   * above `threshold`. From a histogram ({@link StreamingHistogram}), never below the exact
   * quantile and above it by less than `binWidth`.
   */
  pixel: { threshold: number; pixels: number; binWidth: number; method: "histogram" };
  /**
   * Image level: at most `fpr` of the good images have a score strictly above `threshold`
   * (exact quantile). The score is the region score (regions.ts `regionScore`), so with this
   * threshold as many good images get a region ("defect"). `min`/`max`: the good images' score
   * range, the normalisation span.
   */
  image: { threshold: number; min: number; max: number; method: "exact" };
  /** The decision settings the scores were computed with. */
  minArea: number;
  border: number;
  /** Every pipeline setting in use (compared on load). */
  settings: ProfileSettings;
  /** sha256 of the model file ("" for hand-crafted features). */
  modelSha256: string;
  /** ISO time of calibration. */
  created: string;
  /** How the profile was made (backend, threads, model path, command); informative, not compared. */
  runtime?: Record<string, string | number | null>;
}

/** Which threshold of a profile a decision uses. */
export type ProfileLevel = "image" | "pixel";

/** The threshold of `profile` at `level` (default "image": the verdict's false-alarm rate). */
export function profileThreshold(profile: Profile, level: ProfileLevel = "image"): number {
  return level === "pixel" ? profile.pixel.threshold : profile.image.threshold;
}

/** Score span for {@link normalizeScore} with a profile: the good images' score range. */
export function profileSpan(profile: Profile): number {
  return profile.image.max - profile.image.min;
}

/** Write a profile as indented JSON, atomically. */
export async function writeProfile(path: string, profile: Profile): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(profile, null, 2) + "\n"));
}

/** Settings that differ between a profile and the current run, as `key: profile → current`. */
export function settingsDiff(stored: ProfileSettings, current: ProfileSettings): string[] {
  const keys = [...new Set([...Object.keys(stored), ...Object.keys(current)])].sort();
  const show = (v: unknown) => (v === undefined ? "unset" : JSON.stringify(v));
  return keys.filter((k) => stored[k] !== current[k] && !(stored[k] == null && current[k] == null))
    .map((k) => `${k} ${show(stored[k])} → ${show(current[k])}`);
}

/** Check a parsed profile's shape; throws with a one-line reason. */
export function parseProfile(raw: unknown, path = "profile"): Profile {
  const p = raw as Profile;
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  if (
    !p || typeof p !== "object" || p.format !== "fca-profile" || p.version !== 1 ||
    !num(p.fpr) || !num(p.images) || !p.pixel || !num(p.pixel.threshold) || !p.image ||
    !num(p.image.threshold) || !num(p.image.min) || !num(p.image.max) || !num(p.minArea) ||
    !num(p.border) || typeof p.settings !== "object" || p.settings === null ||
    typeof p.modelSha256 !== "string"
  ) {
    throw new Error(`${path}: not an fca calibration profile (format fca-profile, version 1)`);
  }
  return p;
}

/**
 * Read a profile and check it holds for this run: same settings (every key of either side) and
 * same model sha256. Throws a one-line Error naming the difference otherwise.
 */
export async function loadProfile(
  path: string,
  currentSettings: ProfileSettings,
  sha256: string,
): Promise<Profile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read profile (${(e as Error).message.split("\n")[0]})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`${path}: profile is not valid JSON`);
  }
  return checkProfile(parseProfile(raw, path), currentSettings, sha256, path);
}

/** {@link loadProfile}'s checks on a parsed profile. */
export function checkProfile(
  profile: Profile,
  currentSettings: ProfileSettings,
  sha256: string,
  path = "profile",
): Profile {
  if (profile.modelSha256 !== sha256) {
    const short = (s: string) => (s ? s.slice(0, 12) : "none");
    throw new Error(
      `${path}: calibrated with model ${short(profile.modelSha256)}, this run uses ` +
        `${short(sha256)}; recalibrate with this model`,
    );
  }
  const diff = settingsDiff(profile.settings, currentSettings);
  if (diff.length) {
    throw new Error(
      `${path}: calibrated with other settings (${diff.join(", ")}); recalibrate or use the ` +
        `profile's settings`,
    );
  }
  return profile;
}
