/**
 * What a backbone needs to know about its ONNX graph, and the CPU-side preprocessing shared by
 * the CPU backends.
 * @module
 */
import type { FeatureMap } from "../fca/types.ts";
import type { RgbImage } from "../io/types.ts";

/** How to feed a backbone and which tensor to read (from the model manifest). */
export interface BackboneSpec {
  /** Name of the image input tensor ([N,3,H,W]). */
  input: string;
  /** Name of the feature output tensor ([N,C,h,w]). */
  output: string;
  /** Per-channel mean subtracted from RGB in [0,1]. */
  mean: readonly number[];
  /** Per-channel standard deviation the centred RGB is divided by. */
  std: readonly number[];
}

/**
 * A feature extractor whose features come back in host memory: the ONNX backbone on onnxruntime-node
 * or wasm, the hand-crafted extractors, and the WebGPU backbone read back (for tiling).
 */
export interface HostFeatureExtractor {
  /** Which runtime executes the graph, e.g. "onnxruntime-node" or "onnxruntime-web/wasm". */
  readonly runtime: string;
  /** Features of one image (batch 1), channel-major. */
  extract(image: RgbImage): Promise<FeatureMap>;
  /** Releases the session. */
  dispose(): Promise<void>;
}

/** Planar `[1,3,H,W]` float32 tensor data: `(rgb - mean) / std`, computed in float32 as torch does. */
export function normalizeImage(image: RgbImage, spec: Pick<BackboneSpec, "mean" | "std">) {
  const n = image.width * image.height;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(spec.mean[c]), std = Math.fround(spec.std[c]);
    const src = image.data.subarray(c * n, (c + 1) * n), dst = out.subarray(c * n, (c + 1) * n);
    for (let i = 0; i < n; i++) dst[i] = Math.fround(src[i] - mean) / std;
  }
  return out;
}
