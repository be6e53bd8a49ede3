/**
 * Writing one detection to disk: heatmap PNG, overlay PNG and float32 `.npy`, each atomically.
 * @module
 */
import { splitPath } from "../base/paths.ts";
import type { ScalarMap } from "../base/maps.ts";
import type { RgbImage } from "./types.ts";
import { encodePng, HEATMAP_PNG } from "./encode.ts";
import { overlay } from "./colormap.ts";
import { encodeNpy } from "./npy.ts";
import { writeFileAtomic } from "../base/atomic.ts";
import { drawOutlines, encodeMaskPng } from "./outline.ts";

/** Paths of the outputs of an input image (the region mask only when asked for). */
export interface OutputPaths {
  heatmap: string;
  overlay: string;
  npy: string;
  /** `<stem>.mask.png`: the decision's region mask (`--mask`). */
  mask?: string;
}

/** `<stem>.anomaly.png`, `<stem>.overlay.png`, `<stem>.anomaly.npy` beside the input or in `outDir`. */
export function outputPaths(inputPath: string, outDir?: string): OutputPaths {
  const split = splitPath(inputPath);
  const dir = outDir ?? (split.dir === "" ? "." : split.dir);
  const name = split.name;
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
  /**
   * The heatmap blended over the image (opacity {@link OVERLAY_ALPHA}) as interleaved RGB8, when
   * the backend rendered it; otherwise the overlay is computed from `heatmap` and the image.
   */
  overlay?: Uint8Array;
  /**
   * The decision's region mask at the input size (1 = region): outlined on the overlay, and the
   * `mask` output.
   */
  mask?: Uint8Array;
}

/** Opacity of the heatmap in the overlay output. */
export const OVERLAY_ALPHA = 0.5;

/** One output of a detection. */
export type OutputKind = keyof OutputPaths;

/** The outputs always written, slowest to encode first. */
export const OUTPUT_KINDS: readonly OutputKind[] = ["overlay", "heatmap", "npy"];

/** The outputs `paths` asks for: {@link OUTPUT_KINDS}, and the mask when it has a path. */
export function outputKinds(paths: OutputPaths): readonly OutputKind[] {
  return paths.mask === undefined ? OUTPUT_KINDS : [...OUTPUT_KINDS, "mask"];
}

/** The file contents of one output of `det` for `image`. */
export function encodeOutput(kind: OutputKind, det: RenderedMap, image: RgbImage): Uint8Array {
  const { width, height } = image;
  switch (kind) {
    case "heatmap":
      return encodePng(
        width,
        height,
        rgbaToRgb(det.heatmap),
        3,
        HEATMAP_PNG.level,
        HEATMAP_PNG.filter,
      );
    case "overlay":
      return encodePng(width, height, overlayPixels(det, image), 3);
    case "npy":
      return encodeNpy(det.map.data, [det.map.height, det.map.width]);
    case "mask":
      if (!det.mask) throw new Error("outputs: a mask output needs the decision's region mask");
      return encodeMaskPng(det.mask, width, height);
  }
}

/**
 * The overlay picture as interleaved RGB8: the heatmap blended over `image` (opacity
 * {@link OVERLAY_ALPHA}), the decision's regions outlined when `det` has a mask.
 */
export function overlayPixels(det: RenderedMap, image: RgbImage): Uint8Array {
  const { width, height } = image;
  const rgb = det.overlay ?? rgbaToRgb(overlay(image, det.heatmap, OVERLAY_ALPHA));
  return det.mask ? drawOutlines(rgb, width, height, det.mask) : rgb;
}

/** Encode and write the outputs of `det` for `image` (all, or `kinds`). Returns the paths. */
export async function writeOutputs(
  det: RenderedMap,
  image: RgbImage,
  paths: OutputPaths,
  kinds: readonly OutputKind[] = outputKinds(paths),
): Promise<OutputPaths> {
  // Planned names may mirror input folders under --out: their folder is made on first write.
  const { dir } = splitPath(paths.npy);
  if (dir !== "") await Deno.mkdir(dir, { recursive: true });
  for (const kind of kinds) await writeFileAtomic(paths[kind]!, encodeOutput(kind, det, image));
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
