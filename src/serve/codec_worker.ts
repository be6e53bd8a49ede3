/**
 * Worker of {@link CodecPool}: `{id, decode: bytes, maxPixels}` → `{id, value: image}` (pixels
 * moved back); `{id, encode: job}` → `{id, value: outputs}`; failures → `{id, error, status}`.
 * @module
 */
/// <reference lib="deno.worker" />
import { decodeUpload, type EncodeJob, encodeOutputs, UploadError } from "./codec.ts";

self.onmessage = (
  e: MessageEvent<{ id: number; decode?: Uint8Array; maxPixels?: number; encode?: EncodeJob }>,
) => {
  const { id, decode, maxPixels, encode } = e.data;
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
