/**
 * Writing one detection to disk: heatmap PNG, overlay PNG and float32 `.npy`, each atomically.
 * @module
 */
import type { ScalarMap } from "../fca/types.ts";
import type { RgbImage } from "../io/types.ts";
import { encodePng } from "../io/encode.ts";
import { overlay } from "../io/colormap.ts";
import { encodeNpy } from "../io/npy.ts";
import { writeFileAtomic } from "../io/atomic.ts";

/** Paths of the three outputs of an input image. */
export interface OutputPaths {
  heatmap: string;
  overlay: string;
  npy: string;
}

/** `<stem>.anomaly.png`, `<stem>.overlay.png`, `<stem>.anomaly.npy` beside the input or in `outDir`. */
export function outputPaths(inputPath: string, outDir?: string): OutputPaths {
  const slash = Math.max(inputPath.lastIndexOf("/"), inputPath.lastIndexOf("\\"));
  const dir = outDir ?? (slash >= 0 ? inputPath.slice(0, slash) : ".");
  const name = inputPath.slice(slash + 1);
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const base = `${dir.replace(/[\\/]+$/, "") || "/"}/${stem}`;
  return {
    heatmap: `${base}.anomaly.png`,
    overlay: `${base}.overlay.png`,
    npy: `${base}.anomaly.npy`,
  };
}

/** The parts of a detection that are written (a `Detection` has them). */
export interface RenderedMap {
  /** Anomaly map at the input size. */
  map: ScalarMap;
  /** Its RGBA8 heatmap. */
  heatmap: Uint8Array;
}

/** Encode and write the outputs of `det` for `image`. Returns the paths written. */
export async function writeOutputs(
  det: RenderedMap,
  image: RgbImage,
  paths: OutputPaths,
): Promise<OutputPaths> {
  const { width, height } = image;
  const heat = encodePng(width, height, rgbaToRgb(det.heatmap), 3);
  const blended = encodePng(width, height, rgbaToRgb(overlay(image, det.heatmap, 0.5)), 3);
  const npy = encodeNpy(det.map.data, [det.map.height, det.map.width]);
  await writeFileAtomic(paths.heatmap, heat);
  await writeFileAtomic(paths.overlay, blended);
  await writeFileAtomic(paths.npy, npy);
  return paths;
}

function rgbaToRgb(rgba: Uint8Array): Uint8Array {
  const n = rgba.length >> 2, out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    out[3 * i] = rgba[4 * i];
    out[3 * i + 1] = rgba[4 * i + 1];
    out[3 * i + 2] = rgba[4 * i + 2];
  }
  return out;
}
