/**
 * Outputs of an evaluation run: `metrics.json`, the Markdown table and the per-category PRO and
 * ROC plots (SVG), all written atomically.
 * @module
 */
import type { OperatingPointMetrics } from "./operating_point.ts";
import { writeFileAtomic } from "../base/atomic.ts";
import type { CategoryResult, EvalReport } from "./harness.ts";
import { renderLineChartSvg } from "./plot.ts";

/** Run context recorded next to the metrics. */
export interface RunInfo {
  dataset: string;
  settings: Record<string, unknown>;
  backend?: string;
  adapter?: string;
  modelSha256?: string;
  command?: string;
  /**
   * Metrics at operating points (`zero-shot`, and `profile` or `explicit`): mask F1 and IoU
   * pooled over pixels, region recall, and the verdict's image precision/recall/accuracy.
   */
  operatingPoints?: Record<string, OperatingPointMetrics & { threshold?: number }>;
}

/** A metric as a percentage with 2 decimals, or `n/a`. */
export function pct(v: number | null): string {
  return v === null ? "n/a" : (100 * v).toFixed(2);
}

/** The results as a Markdown table (values in %), one row per category plus the mean. */
export function markdownTable(report: EvalReport, integrationLimit = 0.3): string {
  const rows = [
    `| category | images (good) | AU-PRO@${integrationLimit} | pixel AUROC | max F1 | image AUROC |`,
    "|---|---|---|---|---|---|",
  ];
  for (const r of report.categories) {
    rows.push(
      `| ${r.category} | ${r.images} (${r.good}) | ${pct(r.auPro)} | ${pct(r.pixelAuroc)} | ${
        pct(r.maxF1)
      } | ${pct(r.imageAuroc)} |`,
    );
  }
  const m = report.mean;
  rows.push(
    `| **mean** | ${report.images} | ${pct(m.auPro)} | ${pct(m.pixelAuroc)} | ${pct(m.maxF1)} | ${
      pct(m.imageAuroc)
    } |`,
  );
  return rows.join("\n");
}

/** The JSON document written to `metrics.json` (metric values as fractions; null = n/a). */
export function metricsJson(report: EvalReport, info: RunInfo): Record<string, unknown> {
  const cat = (r: CategoryResult) => ({
    images: r.images,
    good: r.good,
    defective: r.defective,
    regions: r.regions,
    ok_pixels: r.okPixels,
    defect_pixels: r.defectPixels,
    au_pro: r.auPro,
    pixel_auroc: r.pixelAuroc,
    max_f1: r.maxF1,
    max_f1_threshold: r.maxF1Threshold,
    image_auroc: r.imageAuroc,
    reused_maps: r.reusedMaps,
    metric_passes: r.metricPasses,
    timings: {
      detect_s: round(r.detectSeconds),
      metrics_s: round(r.metricSeconds),
      stages_ms: Object.fromEntries(Object.entries(r.stageMs).map(([k, v]) => [k, round(v)])),
    },
  });
  return {
    dataset: info.dataset,
    command: info.command,
    settings: info.settings,
    backend: info.backend ?? null,
    adapter: info.adapter ?? null,
    model_sha256: info.modelSha256 ?? null,
    images: report.images,
    categories: Object.fromEntries(report.categories.map((r) => [r.category, cat(r)])),
    mean: {
      au_pro: report.mean.auPro,
      pixel_auroc: report.mean.pixelAuroc,
      max_f1: report.mean.maxF1,
      image_auroc: report.mean.imageAuroc,
    },
    operating_points: info.operatingPoints ?? null,
    timings: {
      total_s: round(report.seconds),
      detect_s: round(report.categories.reduce((a, r) => a + r.detectSeconds, 0)),
      metrics_s: round(report.categories.reduce((a, r) => a + r.metricSeconds, 0)),
    },
  };
}

/** Write `metrics.json` and `plots/<category>_pro.svg` / `_roc.svg` under `outDir`; returns the paths. */
export async function writeReport(
  outDir: string,
  report: EvalReport,
  info: RunInfo,
  integrationLimit = 0.3,
): Promise<string[]> {
  await Deno.mkdir(`${outDir}/plots`, { recursive: true });
  const written: string[] = [];
  for (const r of report.categories) {
    const pro = renderLineChartSvg({
      title: `${r.category}: PRO curve`,
      xLabel: "false positive rate",
      yLabel: "per-region overlap",
      xMax: integrationLimit,
      curve: r.proCurve,
      legend: `AU-PRO@${integrationLimit} = ${pct(r.auPro)}%`,
    });
    const roc = renderLineChartSvg({
      title: `${r.category}: pixel ROC curve`,
      xLabel: "false positive rate",
      yLabel: "true positive rate",
      curve: r.rocCurve,
      diagonal: true,
      legend: `pixel AUROC = ${pct(r.pixelAuroc)}%`,
    });
    for (const [suffix, svg] of [["pro", pro], ["roc", roc]] as const) {
      const path = `${outDir}/plots/${safeName(r.category)}_${suffix}.svg`;
      await writeFileAtomic(path, new TextEncoder().encode(svg));
      written.push(path);
    }
  }
  const json = JSON.stringify(metricsJson(report, info), null, 2) + "\n";
  const path = `${outDir}/metrics.json`;
  await writeFileAtomic(path, new TextEncoder().encode(json));
  written.push(path);
  return written;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, "_");
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** One line per operating point: threshold source, mask F1/IoU, region recall, verdict quality. */
export function operatingPointLines(
  points: Record<string, OperatingPointMetrics & { threshold?: number }>,
): string[] {
  return Object.entries(points).map(([name, m]) =>
    `${name}${m.threshold === undefined ? "" : ` (${m.threshold.toPrecision(4)})`}: mask F1 ${
      pct(m.maskF1)
    }, IoU ${pct(m.maskIoU)}, region recall ${pct(m.regionRecall)}; verdict precision ${
      pct(m.imagePrecision)
    }, recall ${pct(m.imageRecall)}, accuracy ${pct(m.imageAccuracy)}, false alarms ${
      pct(m.falseAlarmRate)
    }`
  );
}
