/**
 * Fit the zero-shot threshold rule offline on maps saved by `mod.ts eval --save-maps`:
 * for each (α, k) of the rule median + max(α·(peak − median), k·MAD), the pooled mask F1 (and
 * more) at that operating point.
 *
 *   deno run -A bench/decision_fit.ts ROOT OUT [--eval-size N] [--alpha 0.4,0.5] [--k 0,4]
 *     [--min-area A] [--border B] [--split all|even|odd] [--json]
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
import { zeroShotThreshold } from "../src/decision/threshold.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    "eval-size": { type: "string" },
    alpha: { type: "string", default: "0.4,0.45,0.5,0.55,0.6" },
    k: { type: "string", default: "0" },
    "min-area": { type: "string", default: "1" },
    border: { type: "string", default: "0" },
    split: { type: "string", default: "all" },
    json: { type: "boolean" },
  },
  allowPositionals: true,
});
const [root, out] = positionals;
const evalSize = values["eval-size"] ? Number(values["eval-size"]) : undefined;
const grid = values.alpha!.split(",").map(Number).flatMap((alpha) =>
  values.k!.split(",").map((k) => ({ alpha, k: Number(k) }))
);
const minArea = Number(values["min-area"]);
const border = Number(values.border);
const dataset = await listDataset(root);
const points = grid.map(() => new OperatingPoint());
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
    const m = { width: s.width, height: s.height, data: s.scores };
    const z = zeroShotThreshold(m, { alpha: 0, k: 0, border, minArea });
    grid.forEach(({ alpha, k }, j) => {
      const t = z.stats.median +
        Math.max(alpha * (z.stats.peak - z.stats.median), k * z.stats.mad, 0);
      points[j].add(scoreImage(s, t, { minArea, border }));
    });
  }
}
let oracle: number | null = null;
try {
  const m = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
  oracle = m.mean?.max_f1 ?? null;
} catch { /* no metrics */ }
const pct = (v: number | null) => (v === null ? "n/a" : (100 * v).toFixed(2));
const results = points.map((p) => p.result());
if (values.json) {
  console.log(JSON.stringify({ root, evalSize, minArea, border, oracle, grid, results }));
} else {
  console.log(
    `${root} eval-size=${evalSize ?? "own"} min-area=${minArea} border=${border} ` +
      `split=${values.split} oracle maxF1=${oracle === null ? "?" : pct(oracle)}`,
  );
  console.log("alpha\tk\tF1\tratio\tIoU\tP\tR\tregR\timgP\timgR\timgAcc\tFAR");
  grid.forEach(({ alpha, k }, j) => {
    const r = results[j];
    const ratio = oracle && r.maskF1 !== null ? (r.maskF1 / oracle).toFixed(3) : "?";
    const cols = [r.maskF1, ratio, r.maskIoU, r.pixelPrecision, r.pixelRecall, r.regionRecall];
    const img = [r.imagePrecision, r.imageRecall, r.imageAccuracy, r.falseAlarmRate];
    console.log(
      [alpha, k, ...cols, ...img].map((v, c) =>
        c < 2 || c === 3 ? String(v) : pct(v as number | null)
      ).join("\t"),
    );
  });
}
