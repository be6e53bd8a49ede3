/**
 * Worker of {@link CodecPool}: `{id, decode: bytes, maxPixels}` → `{id, value: image}` (pixels
 * moved back); `{id, encode: job}` → `{id, value: outputs}`; failures → `{id, error, status}`.
 * @module
 */
/// <reference lib="deno.worker" />
import type { EncodeJob } from "./codec.ts";

// The codecs are imported dynamically, after the handler is in place: the JPEG decoder's module
// instantiates its WebAssembly with a top-level await, and messages that arrive while a worker's
// static imports are still evaluating find no handler and are lost (the request then hangs).
const codec = import("./codec.ts");

self.onmessage = async (
  e: MessageEvent<{ id: number; decode?: Uint8Array; maxPixels?: number; encode?: EncodeJob }>,
) => {
  const { id, decode, maxPixels, encode } = e.data;
  const { decodeUpload, encodeOutputs, UploadError } = await codec;
  try {
    if (decode !== undefined) {
      const image = decodeUpload(decode, maxPixels!);
      const transfer = image.data.buffer instanceof ArrayBuffer ? [image.data.buffer] : [];
      self.postMessage({ id, value: image }, transfer);
    } else if (encode !== undefined) {
      self.postMessage({ id, value: encodeOutputs(encode) });
    } else throw new Error("codec worker: unknown request");
  } catch (err) {
    const status = err instanceof UploadError ? err.status : 500;
    self.postMessage({ id, status, error: err instanceof Error ? err.message : String(err) });
  }
};
