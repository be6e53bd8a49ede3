/**
 * Detection over a stream of image files as a pipeline: inputs are decoded ahead and outputs
 * written behind by an {@link ImageIo} pool, while the detector works on the current image. Results
 * come back in input order; a bad input yields an error result and the stream goes on. Memory is
 * bounded: besides the image being detected, at most `readAhead` images are decoding or decoded
 * and at most `writeBehind + 1` detections are being written.
 * @module
 */
import type { Detector } from "./detector.ts";
import type { ImageIo, Timed } from "../io/io_pool.ts";
import type { OutputPaths } from "./outputs.ts";
import type { RgbImage } from "../io/types.ts";

/** One image of the stream and where its outputs go. */
export interface StreamItem {
  path: string;
  outputs: OutputPaths;
}

/** What became of one item: its detection summary, or the one-line reason it failed. */
export type StreamResult =
  | {
    path: string;
    width: number;
    height: number;
    score: number;
    outputs: OutputPaths;
    /** decode, the detector's stages, write (each where it ran) and latency (first to last). */
    ms: Record<string, number>;
  }
  | { path: string; error: string };

/** Options of {@link detectStream}. */
export interface StreamOptions {
  /** Images decoded ahead of the one being detected (default: the pool size + 1). */
  readAhead?: number;
  /** Outputs being written while the detector goes on (default: the pool size + 1). */
  writeBehind?: number;
}

/** Run `detector` over `items` with `pool` doing the I/O; yields one result per item, in order. */
export async function* detectStream(
  detector: Pick<Detector, "detect">,
  items: Iterable<StreamItem>,
  pool: ImageIo,
  opts: StreamOptions = {},
): AsyncGenerator<StreamResult> {
  const readAhead = Math.max(1, opts.readAhead ?? pool.size + 1);
  const writeBehind = Math.max(1, opts.writeBehind ?? pool.size + 1);
  const source = items[Symbol.iterator]();
  const decoding: { item: StreamItem; start: number; image: Promise<Timed<RgbImage>> }[] = [];
  const writing: { result: Promise<StreamResult> }[] = [];
  const refill = () => {
    while (decoding.length < readAhead) {
      const next = source.next();
      if (next.done) return;
      const image = pool.decode(next.value.path);
      image.catch(() => {}); // awaited in turn below; keep an early failure from going unhandled
      decoding.push({ item: next.value, start: performance.now(), image });
    }
  };
  refill();
  while (decoding.length > 0) {
    const { item, start, image } = decoding.shift()!;
    refill();
    writing.push(await detectOne(detector, pool, item, start, image));
    while (writing.length > writeBehind) yield await writing.shift()!.result;
  }
  while (writing.length > 0) yield await writing.shift()!.result;
}

/**
 * Detect one image once decoded and hand its outputs to the pool. Resolves as soon as the
 * detection is done (the detector takes one image at a time), to the write still in progress.
 */
async function detectOne(
  detector: Pick<Detector, "detect">,
  pool: ImageIo,
  item: StreamItem,
  start: number,
  decoding: Promise<Timed<RgbImage>>,
): Promise<{ result: Promise<StreamResult> }> {
  const fail = (err: unknown): StreamResult => ({
    path: item.path,
    error: err instanceof Error ? err.message : String(err),
  });
  try {
    const { value: image, ms: decode } = await decoding;
    const { width, height } = image;
    const det = await detector.detect(image);
    const result = pool.write({ detection: det, image, paths: item.outputs }).then(
      ({ value: outputs, ms: write }): StreamResult => ({
        path: item.path,
        width,
        height,
        score: det.score,
        outputs,
        ms: { decode, ...det.timings, write, latency: performance.now() - start },
      }),
      fail,
    );
    return { result };
  } catch (err) {
    return { result: Promise.resolve(fail(err)) };
  }
}
