/**
 * Minimal line charts rendered into an RGBA buffer (no plotting dependency): white background,
 * grid, axes with numbered ticks, axis names, a title and one curve. Text uses a built-in 5×7
 * pixel font (upper case, digits and a few symbols; lower case is drawn as upper case).
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
  /** Draw the y = x diagonal (for ROC curves). */
  diagonal?: boolean;
  width?: number;
  height?: number;
}

/** An RGBA8 image. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

type Rgb = readonly [number, number, number];
const BLACK: Rgb = [0, 0, 0], GRID: Rgb = [225, 225, 225], CURVE: Rgb = [31, 90, 200];
const DIAG: Rgb = [170, 170, 170];

/** Render a chart (default 640×480). */
export function renderLineChart(spec: ChartSpec): RgbaImage {
  const W = spec.width ?? 640, H = spec.height ?? 480;
  const img: RgbaImage = { width: W, height: H, data: new Uint8Array(W * H * 4).fill(255) };
  const xMax = spec.xMax ?? 1, yMax = spec.yMax ?? 1;
  const left = 70, right = W - 24, top = 44, bottom = H - 56;
  const px = (x: number) => left + (x / xMax) * (right - left);
  const py = (y: number) => bottom - (y / yMax) * (bottom - top);
  const ticks = 10;
  // Label every tick when the labels fit side by side, else every second one.
  const widest = textWidth(tickText(xMax * 0.9), 2);
  const every = widest + 12 > (right - left) / ticks ? 2 : 1;
  for (let i = 0; i <= ticks; i++) {
    const xv = (xMax * i) / ticks, yv = (yMax * i) / ticks;
    const gx = Math.round(px(xv)), gy = Math.round(py(yv));
    line(img, gx, top, gx, bottom, GRID, 1);
    line(img, left, gy, right, gy, GRID, 1);
    line(img, gx, bottom, gx, bottom + 5, BLACK, 1);
    line(img, left - 5, gy, left, gy, BLACK, 1);
    const xt = tickText(xv), yt = tickText(yv);
    if (i % every === 0) text(img, xt, gx - textWidth(xt, 2) / 2, bottom + 10, 2, BLACK);
    text(img, yt, left - 10 - textWidth(yt, 2), gy - 7, 2, BLACK);
  }
  line(img, left, top, left, bottom, BLACK, 2);
  line(img, left, bottom, right, bottom, BLACK, 2);
  if (spec.diagonal) {
    const end = Math.min(xMax, yMax);
    dashed(img, px(0), py(0), px(end), py(end), DIAG);
  }
  const { x, y } = spec.curve;
  for (let i = 1; i < x.length; i++) {
    const x0 = Math.min(x[i - 1], xMax), x1 = Math.min(x[i], xMax);
    let y1 = y[i];
    if (x[i] > xMax && x[i] !== x[i - 1]) {
      y1 = y[i - 1] + ((y[i] - y[i - 1]) * (xMax - x[i - 1])) / (x[i] - x[i - 1]);
    }
    if (x[i - 1] > xMax) break;
    line(img, px(x0), py(y[i - 1]), px(x1), py(y1), CURVE, 2);
  }
  text(img, spec.title, (W - textWidth(spec.title, 2)) / 2, 12, 2, BLACK);
  text(img, spec.xLabel, (left + right - textWidth(spec.xLabel, 2)) / 2, H - 22, 2, BLACK);
  text(img, spec.yLabel, 8, top - 24, 2, BLACK);
  return img;
}

function tickText(v: number): string {
  return Number.isInteger(v * 10) ? v.toFixed(1) : v.toFixed(2);
}

function setPixel(img: RgbaImage, x: number, y: number, c: Rgb): void {
  x = Math.round(x);
  y = Math.round(y);
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const o = (y * img.width + x) * 4;
  img.data[o] = c[0];
  img.data[o + 1] = c[1];
  img.data[o + 2] = c[2];
  img.data[o + 3] = 255;
}

/** Straight line of `thick` pixels, sampled at sub-pixel steps. */
function line(
  img: RgbaImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  c: Rgb,
  thick: number,
) {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0)) * 2));
  for (let s = 0; s <= steps; s++) {
    const x = x0 + ((x1 - x0) * s) / steps, y = y0 + ((y1 - y0) * s) / steps;
    for (let dy = 0; dy < thick; dy++) {
      for (let dx = 0; dx < thick; dx++) {
        setPixel(img, x + dx - (thick >> 1), y + dy - (thick >> 1), c);
      }
    }
  }
}

function dashed(img: RgbaImage, x0: number, y0: number, x1: number, y1: number, c: Rgb) {
  const len = Math.hypot(x1 - x0, y1 - y0), n = Math.ceil(len / 6);
  for (let i = 0; i < n; i += 2) {
    const a = i / n, b = Math.min(1, (i + 1) / n);
    line(img, x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, x0 + (x1 - x0) * b, y0 + (y1 - y0) * b, c, 1);
  }
}

/** Width in pixels of `s` drawn at `scale`. */
export function textWidth(s: string, scale: number): number {
  return s.length * 6 * scale - scale;
}

/** Draw `s` with its top-left corner at (x, y). Unknown characters are drawn as blanks. */
export function text(img: RgbaImage, s: string, x: number, y: number, scale: number, c: Rgb): void {
  x = Math.round(x);
  y = Math.round(y);
  for (const ch of s.toUpperCase()) {
    const rows = FONT[ch];
    if (rows) {
      for (let r = 0; r < 7; r++) {
        for (let col = 0; col < 5; col++) {
          if (!(rows[r] & (16 >> col))) continue;
          for (let dy = 0; dy < scale; dy++) {
            for (let dx = 0; dx < scale; dx++) {
              setPixel(img, x + col * scale + dx, y + r * scale + dy, c);
            }
          }
        }
      }
    }
    x += 6 * scale;
  }
}

// 5×7 glyphs, one 5-bit row per entry (bit 4 = leftmost column).
const FONT: Record<string, readonly number[]> = {
  "0": [14, 17, 19, 21, 25, 17, 14],
  "1": [4, 12, 4, 4, 4, 4, 14],
  "2": [14, 17, 1, 2, 4, 8, 31],
  "3": [31, 2, 4, 2, 1, 17, 14],
  "4": [2, 6, 10, 18, 31, 2, 2],
  "5": [31, 16, 30, 1, 1, 17, 14],
  "6": [6, 8, 16, 30, 17, 17, 14],
  "7": [31, 1, 2, 4, 8, 8, 8],
  "8": [14, 17, 17, 14, 17, 17, 14],
  "9": [14, 17, 17, 15, 1, 2, 12],
  A: [14, 17, 17, 17, 31, 17, 17],
  B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14],
  D: [28, 18, 17, 17, 17, 18, 28],
  E: [31, 16, 16, 30, 16, 16, 31],
  F: [31, 16, 16, 30, 16, 16, 16],
  G: [14, 17, 16, 23, 17, 17, 15],
  H: [17, 17, 17, 31, 17, 17, 17],
  I: [14, 4, 4, 4, 4, 4, 14],
  J: [7, 2, 2, 2, 2, 18, 12],
  K: [17, 18, 20, 24, 20, 18, 17],
  L: [16, 16, 16, 16, 16, 16, 31],
  M: [17, 27, 21, 21, 17, 17, 17],
  N: [17, 17, 25, 21, 19, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16],
  Q: [14, 17, 17, 17, 21, 18, 13],
  R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30],
  T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14],
  V: [17, 17, 17, 17, 17, 10, 4],
  W: [17, 17, 17, 21, 21, 21, 10],
  X: [17, 17, 10, 4, 10, 17, 17],
  Y: [17, 17, 17, 10, 4, 4, 4],
  Z: [31, 1, 2, 4, 8, 16, 31],
  " ": [0, 0, 0, 0, 0, 0, 0],
  ".": [0, 0, 0, 0, 0, 12, 12],
  ",": [0, 0, 0, 0, 12, 4, 8],
  ":": [0, 12, 12, 0, 12, 12, 0],
  "-": [0, 0, 0, 31, 0, 0, 0],
  _: [0, 0, 0, 0, 0, 0, 31],
  "%": [24, 25, 2, 4, 8, 19, 3],
  "@": [14, 17, 1, 13, 21, 21, 14],
  "(": [2, 4, 8, 8, 8, 4, 2],
  ")": [8, 4, 2, 2, 2, 4, 8],
  "=": [0, 0, 31, 0, 31, 0, 0],
  "/": [0, 1, 2, 4, 8, 16, 0],
  "+": [0, 4, 4, 31, 4, 4, 0],
};
