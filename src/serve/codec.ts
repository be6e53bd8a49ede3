/**
 * The server's image work outside detection: decoding an uploaded image (size checked from its
 * header before any pixel is decoded) and encoding the requested outputs as base64. Runs inline
 * or on the threads of a `CodecPool` (`codec_pool.ts`).
 * @module
 */
import { decodeImage, probeImageSize } from "../io/decode.ts";
import { encodePng } from "../io/encode.ts";
import { encodeOutput, type RenderedMap } from "../io/outputs.ts";
import type { RgbImage } from "../io/types.ts";

/** An upload that cannot be used: the HTTP status and one-line message to answer with. */
export class UploadError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Outputs a request may include. */
export const INCLUDE_KINDS = ["heatmap", "overlay", "mask", "map"] as const;
/** One of them. */
export type IncludeKind = typeof INCLUDE_KINDS[number];

/** What encoding needs: the rendered map, the image, the decision mask (for `mask`). */
export interface EncodeJob {
  detection: RenderedMap;
  image: RgbImage;
  mask?: Uint8Array;
  kinds: IncludeKind[];
}

/** Decode an upload named "image"; 413 past `maxPixels`, 400 when it is not a usable image. */
export function decodeUpload(bytes: Uint8Array, maxPixels: number): RgbImage {
  try {
    const { width, height } = probeImageSize(bytes, "image");
    if (width * height > maxPixels) {
      throw new UploadError(
        413,
        `image: ${width}x${height} pixels, more than the server's limit of ${maxPixels}`,
      );
    }
    return decodeImage(bytes, "image");
  } catch (err) {
    if (err instanceof UploadError) throw err;
    throw new UploadError(400, String(err instanceof Error ? err.message : err).split("\n")[0]);
  }
}

/** The requested outputs, base64: PNGs as the CLI writes them, the map as a float32 `.npy`. */
export function encodeOutputs(job: EncodeJob): Record<string, string> {
  const out: Record<string, string> = {};
  const { image } = job;
  // Regions outlined on the overlay, as the CLI draws them.
  const detection = job.mask ? { ...job.detection, mask: job.mask } : job.detection;
  for (const kind of job.kinds) {
    const bytes = kind === "mask"
      ? encodePng(image.width, image.height, job.mask!, 1)
      : encodeOutput(kind === "map" ? "npy" : kind, detection, image);
    out[kind] = base64(bytes);
  }
  return out;
}

/** Base64 without intermediate strings (`Uint8Array.prototype.toBase64`, ES2026). */
function base64(bytes: Uint8Array): string {
  return (bytes as Uint8Array & { toBase64(): string }).toBase64();
}
