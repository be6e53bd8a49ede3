/**
 * The calibration experiment on saved maps (`mod.ts eval --save-maps`, maps at input size):
 * calibrate on the even-indexed good images (`--calibrate-on odd`: the odd ones), then measure on
 * the other half of the good images the
 * verdict's false-alarm rate and on every defective image the recall, at the profile's image
 * threshold (and, for reference, at its pixel threshold).
 *
 *   deno run -A bench/calibration_split.ts ROOT OUT [--fpr 0.05] [--min-area 16] [--border 0]
 *     [--calibrate-on even|odd]
 * @module
 */
import { parseArgs } from "node:util";
import { listDataset } from "../src/eval/dataset.ts";
import { savedMapPath } from "../src/eval/harness.ts";
import { readNpy } from "../src/io/npy.ts";
import { Calibrator } from "../src/decision/calibrate.ts";
import { findRegions, regionScore } from "../src/decision/regions.ts";
import type { ScalarMap } from "../src/fca/types.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    fpr: { type: "string", default: "0.05" },
    "min-area": { type: "string", default: "16" },
    border: { type: "string", default: "0" },
    "calibrate-on": { type: "string", default: "even" },
  },
  allowPositionals: true,
});
const [root, out] = positionals;
const fpr = Number(values.fpr), minArea = Number(values["min-area"]);
const border = Number(values.border);
if (values["calibrate-on"] !== "even" && values["calibrate-on"] !== "odd") {
  throw new Error(`--calibrate-on must be even or odd, got ${values["calibrate-on"]}`);
}
const first = values["calibrate-on"] === "even" ? 0 : 1;
const items = [...(await listDataset(root)).values()].flat();
const good = items.filter((i) => i.defect === "good");
const bad = items.filter((i) => i.defect !== "good");
const load = async (item: (typeof items)[number]): Promise<ScalarMap> => {
  const a = await readNpy(savedMapPath(out, item));
  return { height: a.shape[0], width: a.shape[1], data: a.data };
};
const cal = new Calibrator({ fpr, minArea, border });
for (let i = first; i < good.length; i += 2) cal.add(await load(good[i]));
const profile = cal.profile({ settings: {}, modelSha256: "" });
const t = profile.image.threshold, tp = profile.pixel.threshold;
let fa = 0, faPixel = 0, heldOut = 0;
for (let i = 1 - first; i < good.length; i += 2) {
  const m = await load(good[i]);
  heldOut++;
  if (regionScore(m, minArea, border) > t) fa++;
  if (findRegions(m, tp, { minArea, border, maxRegions: 0 }).omitted > 0) faPixel++;
}
const perDefect: Record<string, [number, number]> = {};
let hit = 0;
for (const item of bad) {
  const s = regionScore(await load(item), minArea, border);
  const d = (perDefect[item.defect] ??= [0, 0]);
  d[1]++;
  if (s > t) {
    hit++;
    d[0]++;
  }
}
console.log(JSON.stringify(
  {
    root,
    fpr,
    minArea,
    border,
    calibratedOn: values["calibrate-on"],
    calibrationImages: profile.images,
    imageThreshold: t,
    pixelThreshold: tp,
    heldOutGood: heldOut,
    falseAlarms: fa,
    falseAlarmRate: fa / heldOut,
    falseAlarmRateAtPixelThreshold: faPixel / heldOut,
    defective: bad.length,
    recall: hit / bad.length,
    recallPerDefect: Object.fromEntries(
      Object.entries(perDefect).map(([k, [h, n]]) => [k, `${h}/${n}`]),
    ),
  },
  null,
  1,
));
