/**
 * Line charts as SVG (no plotting dependency): real text, axis ticks and names, a grid, a title,
 * the curve and a legend carrying its area (AU-PRO or AUROC). Any browser or image viewer shows
 * them, and they scale without blur.
 * @module
 */
import type { Curve } from "./pixel_metrics.ts";

/** What to draw. */
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Axis ranges start at 0; they end here (default 1). */
  xMax?: number;
  yMax?: number;
  curve: Curve;
  /** Legend text of the curve (e.g. `AU-PRO@0.3 = 97.1%`). */
  legend: string;
  /** Draw the y = x diagonal (for ROC curves), labelled "chance" in the legend. */
  diagonal?: boolean;
  width?: number;
  height?: number;
}

const CURVE = "#1f5ac8", GRID = "#e1e1e1", DIAG = "#aaaaaa";
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Render a chart (default 640×480) as an SVG document. */
export function renderLineChartSvg(spec: ChartSpec): string {
  const W = spec.width ?? 640, H = spec.height ?? 480;
  const xMax = spec.xMax ?? 1, yMax = spec.yMax ?? 1;
  const left = 70, right = W - 24, top = 44, bottom = H - 56;
  const px = (x: number) => left + (Math.min(Math.max(x, 0), xMax) / xMax) * (right - left);
  const py = (y: number) => bottom - (Math.min(Math.max(y, 0), yMax) / yMax) * (bottom - top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
    `viewBox="0 0 ${W} ${H}" ${FONT} font-size="13">`,
    `<title>${esc(spec.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  const ticks = 10;
  const grid: string[] = [], marks: string[] = [], labels: string[] = [];
  for (let i = 0; i <= ticks; i++) {
    const xv = (xMax * i) / ticks, yv = (yMax * i) / ticks;
    const gx = f(px(xv)), gy = f(py(yv));
    grid.push(`M${gx} ${top}V${bottom}M${left} ${gy}H${right}`);
    marks.push(`M${gx} ${bottom}v5M${left - 5} ${gy}h5`);
    labels.push(
      `<text x="${gx}" y="${bottom + 20}" text-anchor="middle">${tickText(xv)}</text>`,
      `<text x="${left - 9}" y="${f(py(yv) + 4.5)}" text-anchor="end">${tickText(yv)}</text>`,
    );
  }
  out.push(`<path d="${grid.join("")}" stroke="${GRID}" stroke-width="1" fill="none"/>`);
  out.push(`<path d="${marks.join("")}" stroke="black" stroke-width="1" fill="none"/>`);
  out.push(...labels);
  if (spec.diagonal) {
    const m = Math.min(xMax, yMax);
    out.push(
      `<line x1="${f(px(0))}" y1="${f(py(0))}" x2="${f(px(m))}" y2="${f(py(m))}" ` +
        `stroke="${DIAG}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
  }
  const { x, y } = spec.curve;
  const pts: string[] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] > xMax && i > 0 && x[i - 1] >= xMax) break;
    pts.push(`${f(px(x[i]))},${f(py(y[i]))}`);
  }
  if (pts.length > 0) {
    out.push(
      `<polyline points="${pts.join(" ")}" fill="none" stroke="${CURVE}" stroke-width="2" ` +
        `stroke-linejoin="round"/>`,
    );
  }
  out.push(
    `<path d="M${left} ${top}V${bottom}H${right}" stroke="black" stroke-width="2" fill="none"/>`,
    `<text x="${f((left + right) / 2)}" y="${top - 18}" text-anchor="middle" font-size="16" ` +
      `font-weight="bold">${esc(spec.title)}</text>`,
    `<text x="${f((left + right) / 2)}" y="${H - 14}" text-anchor="middle" font-size="14">` +
      `${esc(spec.xLabel)}</text>`,
    `<text x="18" y="${f((top + bottom) / 2)}" text-anchor="middle" font-size="14" ` +
      `transform="rotate(-90 18 ${f((top + bottom) / 2)})">${esc(spec.yLabel)}</text>`,
  );
  // Legend, bottom right inside the axes (curves of good detectors hug the top left).
  const entries = [{ text: spec.legend, color: CURVE, dash: "" }];
  if (spec.diagonal) entries.push({ text: "chance", color: DIAG, dash: ` stroke-dasharray="6 4"` });
  const lw = 46 + 7.6 * Math.max(...entries.map((e) => e.text.length));
  const lh = 10 + 20 * entries.length;
  const lx = right - lw - 12, ly = bottom - lh - 12;
  out.push(
    `<rect x="${f(lx)}" y="${f(ly)}" width="${f(lw)}" height="${lh}" fill="white" ` +
      `fill-opacity="0.9" stroke="#999999"/>`,
  );
  entries.forEach((e, i) => {
    const cy = ly + 15 + 20 * i;
    out.push(
      `<line x1="${f(lx + 8)}" y1="${f(cy)}" x2="${f(lx + 32)}" y2="${
        f(cy)
      }" stroke="${e.color}" ` +
        `stroke-width="2"${e.dash}/>`,
      `<text x="${f(lx + 38)}" y="${f(cy + 4.5)}">${esc(e.text)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Tick label: at most 3 decimals, trailing zeros dropped (0.05, 0.1, 1). */
function tickText(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

function f(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}
