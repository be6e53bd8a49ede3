/**
 * `fca calibrate GOOD_DIR... --out profile.json [--fpr 0.01] [options]`: run the detector on
 * defect-free images and write a calibration profile (src/decision/profile.ts) with the pixel and
 * image thresholds for the target false-alarm rate.
 * @module
 */
import { parseArgs } from "node:util";
import { Detector, type DetectorOptions, detectorSettings } from "../pipeline/detector.ts";
import { mapKeySettings } from "../design.ts";
import { readImage } from "../io/decode.ts";
import { Calibrator } from "../decision/calibrate.ts";
import { type ProfileSettings, writeProfile } from "../decision/profile.ts";
import { expandInputs } from "./inputs.ts";
import {
  decisionSettings,
  PIPELINE_FLAGS,
  PIPELINE_HELP,
  REGION_HELP,
  toDetectorOptions,
  UsageError,
} from "./options.ts";

/** Help text of the calibrate command. */
export const CALIBRATE_HELP = `Usage: fca calibrate GOOD_IMAGE|DIR... --out profile.json [options]
Runs the detector on defect-free images and writes a calibration profile: the pixel threshold
(at most --fpr of the good pixels above it) and the image threshold (at most --fpr of the good
images above it, so that many would get a region), with the settings and model sha256 they hold
for. Use it with 'fca IMAGE... --profile profile.json' (same settings and model).

Options:
  --out FILE         the profile to write (required; written atomically)
  --fpr P            target false-alarm rate in (0, 1) (default 0.01)
${REGION_HELP}
  --recursive        also take the images of subfolders
${PIPELINE_HELP}
  --help             show this help`;

/**
 * The settings a profile is bound to: every design-table option that changes the map, and the
 * decision's region settings.
 */
export function profileSettings(
  options: DetectorOptions,
  decision: { minArea: number; border: number },
): ProfileSettings {
  return {
    ...mapKeySettings(detectorSettings(options)) as ProfileSettings,
    min_area: decision.minArea,
    border: decision.border,
  };
}

/** Run the calibrate command; resolves to the exit code. */
export async function runCalibrate(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...PIPELINE_FLAGS,
      out: { type: "string" },
      fpr: { type: "string" },
      "min-area": { type: "string" },
      border: { type: "string" },
      recursive: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(CALIBRATE_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("no good images given (see calibrate --help)");
  if (values.out === undefined) throw new UsageError("--out profile.json is required");
  const fpr = values.fpr === undefined ? 0.01 : Number(values.fpr);
  if (values.fpr?.trim() === "" || !(fpr > 0 && fpr < 1)) {
    throw new UsageError(`--fpr must be a number in (0, 1), got '${values.fpr}'`);
  }
  const { minArea, border } = decisionSettings(values);
  const options = toDetectorOptions(values);
  const items = await expandInputs(positionals, { recursive: values.recursive ?? false });
  const errors = items.filter((i) => "error" in i);
  for (const e of errors) console.error(`error: ${e.path}: ${(e as { error: string }).error}`);
  const paths = items.filter((i) => !("error" in i)).map((i) => i.path);
  if (paths.length === 0) throw new UsageError("no good images found");

  const calibrator = new Calibrator({ fpr, minArea, border });
  const detector = await Detector.create(options);
  let failed = errors.length;
  try {
    for (const path of paths) {
      try {
        calibrator.add((await detector.detect(await readImage(path))).map);
      } catch (err) {
        console.error(`error: ${path}: ${String((err as Error).message ?? err).split("\n")[0]}`);
        failed++;
      }
    }
    if (calibrator.images === 0) throw new Error("no good image could be processed");
    for (const w of calibrator.warnings()) console.error(`warning: ${w}`);
    const profile = calibrator.profile({
      settings: profileSettings(options, { minArea, border }),
      modelSha256: detector.modelSha256,
    });
    profile.runtime = {
      backend: detector.backend,
      threads: detector.threads,
      model: options.model ?? Deno.env.get("FCA_MODEL") ?? null,
      command: ["fca", "calibrate", ...argv].join(" "),
    };
    await writeProfile(values.out, profile);
    console.log(JSON.stringify({
      profile: values.out,
      images: profile.images,
      fpr,
      pixel_threshold: profile.pixel.threshold,
      image_threshold: profile.image.threshold,
      failed,
    }));
  } finally {
    await detector.dispose();
  }
  return failed > 0 ? 1 : 0;
}
