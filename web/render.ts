/**
 * The pictures and files of a page detection, made by the CLI's own encoders: the heatmap, the
 * overlay with the regions outlined and the mask as RGBA for a 2D canvas (a WebGPU canvas does
 * not present everywhere, e.g. headless), and the downloads named and encoded as the CLI writes
 * them (`<stem>.anomaly.npy`, `.anomaly.png`, `.overlay.png`, `.mask.png`).
 * @module
 */
import { encodeOutput, type OutputKind, overlayPixels } from "../src/io/outputs.ts";
import { maskToGray } from "../src/io/outline.ts";
import type { PageDetection } from "./engine.ts";

/** RGBA pixels of one picture, ready for `new ImageData(data, width, height)`. */
export interface Picture {
  width: number;
  height: number;
  data: Uint8ClampedArray<ArrayBuffer>;
}

/** The three pictures the page shows. */
export interface Pictures {
  overlay: Picture;
  heatmap: Picture;
  mask: Picture;
}

/** The detection's pictures (the overlay outlines the regions of `d.mask`). */
export function pictures(d: PageDetection): Pictures {
  const { width, height } = d;
  const rendered = { ...d.detection, mask: d.mask };
  return {
    overlay: { width, height, data: rgba(overlayPixels(rendered, d.image), 3) },
    heatmap: { width, height, data: new Uint8ClampedArray(d.detection.heatmap) },
    mask: { width, height, data: rgba(maskToGray(d.mask), 1) },
  };
}

/** A file to download: name, bytes and MIME type. */
export interface Download {
  name: string;
  bytes: Uint8Array;
  type: string;
}

/** File name endings of the outputs, as the CLI names them after the input's stem. */
const SUFFIX: Record<OutputKind, string> = {
  npy: ".anomaly.npy",
  heatmap: ".anomaly.png",
  overlay: ".overlay.png",
  mask: ".mask.png",
};

/** The page's download of `kind` for the image named `name`, as the CLI writes it. */
export function download(kind: OutputKind, d: PageDetection, name: string): Download {
  const base = name.split(/[\\/]/).pop() || "image";
  const dot = base.lastIndexOf(".");
  const stem = dot > 0 ? base.slice(0, dot) : base;
  return {
    name: `${stem}${SUFFIX[kind]}`,
    bytes: encodeOutput(kind, { ...d.detection, mask: d.mask }, d.image),
    type: kind === "npy" ? "application/octet-stream" : "image/png",
  };
}

/** Gray (1) or RGB (3) bytes as RGBA, opaque. */
function rgba(pixels: Uint8Array, channels: 1 | 3): Uint8ClampedArray<ArrayBuffer> {
  const n = pixels.length / channels, out = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = pixels[channels === 1 ? i : 3 * i + c];
    out[4 * i + 3] = 255;
  }
  return out;
}
