/**
 * Worker of {@link IoPool}: decodes image files and encodes and writes a detection's outputs, so
 * that a stream of images keeps the detector busy instead of waiting on PNG codecs.
 * Messages: `{ id, decode: path }` → `{ id, image, ms }`; `{ id, write: WriteJob }` → `{ id, paths, ms }`;
 * any failure → `{ id, error }` (the one-line message of the error).
 * @module
 */
/// <reference lib="deno.worker" />
import type { WriteJob } from "./io_pool.ts";

// The codecs are imported dynamically, after the handler is in place: the JPEG decoder's module
// instantiates its WebAssembly with a top-level await, and messages that arrive while a worker's
// static imports are still evaluating find no handler and are lost.
const codecs = Promise.all([import("./decode.ts"), import("./outputs.ts")]);

self.onmessage = async (e: MessageEvent<{ id: number; decode?: string; write?: WriteJob }>) => {
  const { id, decode, write } = e.data;
  const t0 = performance.now();
  try {
    const [{ readImage }, { writeOutputs }] = await codecs;
    if (decode !== undefined) {
      const image = await readImage(decode);
      const transfer = image.data.buffer instanceof ArrayBuffer ? [image.data.buffer] : [];
      self.postMessage({ id, image, ms: performance.now() - t0 }, transfer);
    } else if (write !== undefined) {
      const paths = await writeOutputs(write.detection, write.image, write.paths, write.kinds);
      self.postMessage({ id, paths, ms: performance.now() - t0 });
    } else throw new Error("io worker: unknown request");
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
