/**
 * Fit the zero-shot threshold rule offline on maps saved by `mod.ts eval --save-maps`:
 * for each k of median + k·MAD, the pooled mask F1 (and more) at that operating point.
 *
 *   deno run -A bench/decision_fit.ts ROOT OUT [--eval-size N] [--k 2,3,4] [--min-area A]
 *     [--border B] [--split all|even|odd]
 *
 * OUT is the eval's --out folder (maps under OUT/maps); the oracle max F1 is read from
 * OUT/metrics.json when present.
 * @module
 */
import { parseArgs } from "node:util";
import { listDataset } from "../src/eval/dataset.ts";
import { savedMapPath } from "../src/eval/harness.ts";
import { prepareSample } from "../src/eval/prepare.ts";
import { decodeGrayMask } from "../src/io/decode.ts";
import { readNpy } from "../src/io/npy.ts";
import { OperatingPoint, scoreImage } from "../src/eval/operating_point.ts";
import { interiorMask } from "../src/decision/regions.ts";
import { robustStats } from "../src/decision/threshold.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    "eval-size": { type: "string" },
    k: { type: "string", default: "2,3,4,5,6,7,8,10,12,15" },
    "min-area": { type: "string", default: "1" },
    border: { type: "string", default: "0" },
    split: { type: "string", default: "all" },
    json: { type: "boolean" },
  },
  allowPositionals: true,
});
const [root, out] = positionals;
const evalSize = values["eval-size"] ? Number(values["eval-size"]) : undefined;
const ks = values.k!.split(",").map(Number);
const minArea = Number(values["min-area"]);
const border = Number(values.border);
const dataset = await listDataset(root);
const points = ks.map(() => new OperatingPoint());
let idx = 0;
for (const [, items] of dataset) {
  for (const item of items) {
    const i = idx++;
    if (values.split === "even" && i % 2) continue;
    if (values.split === "odd" && !(i % 2)) continue;
    const a = await readNpy(savedMapPath(out, item, evalSize !== undefined));
    const map = { height: a.shape[0], width: a.shape[1], data: a.data };
    const mask = item.maskPath
      ? decodeGrayMask(await Deno.readFile(item.maskPath), item.maskPath)
      : null;
    const s = prepareSample(map, mask, { evalSize });
    const valid = border > 0 ? interiorMask(s.width, s.height, border) : undefined;
    const st = robustStats(s.scores, valid);
    ks.forEach((k, j) => points[j].add(scoreImage(s, st.median + k * st.mad, { minArea, border })));
  }
}
let oracle: number | null = null;
try {
  const m = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
  oracle = m.mean?.max_f1 ?? null;
} catch { /* no metrics */ }
const pct = (v: number | null) => (v === null ? "n/a" : (100 * v).toFixed(2));
if (values.json) {
  console.log(
    JSON.stringify({
      root,
      evalSize,
      minArea,
      border,
      oracle,
      ks,
      results: points.map((p) => p.result()),
    }),
  );
} else {
  console.log(
    `${root} eval-size=${
      evalSize ?? "own"
    } min-area=${minArea} border=${border} split=${values.split} oracle maxF1=${
      oracle === null ? "?" : pct(oracle > 1 ? oracle / 100 : oracle)
    }`,
  );
  console.log("k\tF1\tIoU\tP\tR\tregR\timgP\timgR\timgAcc\tFAR");
  ks.forEach((k, j) => {
    const r = points[j].result();
    console.log(
      [
        k,
        r.maskF1,
        r.maskIoU,
        r.pixelPrecision,
        r.pixelRecall,
        r.regionRecall,
        r.imagePrecision,
        r.imageRecall,
        r.imageAccuracy,
        r.falseAlarmRate,
      ]
        .map((v, c) => (c === 0 ? String(v) : pct(v as number | null))).join("\t"),
    );
  });
}
