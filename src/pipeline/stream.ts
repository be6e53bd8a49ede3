/**
 * Detection over a stream of image files as a pipeline: inputs are decoded ahead and outputs
 * written behind by an {@link ImageIo} pool, while the detector works on the current image. Results
 * come back in input order; a bad input yields an error result and the stream goes on. Memory is
 * bounded by counts and by bytes: besides the image being detected, at most `readAhead` images are
 * decoding or decoded and at most `writeBehind + 1` detections are being written, within
 * `memoryBudget` (large images go one at a time). Without worker threads it is a plain loop.
 * @module
 */
import type { Detection, Detector } from "./detector.ts";
import type { ImageIo, Timed } from "../io/io_pool.ts";
import type { OutputPaths } from "../io/outputs.ts";
import type { RgbImage } from "../io/types.ts";
import type { ScalarMap } from "../fca/types.ts";
import type { Decision } from "../decision/decide.ts";

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
    /** Image tiles the detector used (1 when untiled). */
    tiles: number;
    /** The working size and patch the detector used, when it reports them. */
    used?: Detection["used"];
    /** Threshold, verdict, normalised score and regions, when the stream decides. */
    decision?: Decision;
    outputs: OutputPaths;
    /** decode, the detector's stages, write (each where it ran) and latency (first to last). */
    ms: Record<string, number>;
  }
  | { path: string; error: string };

/** Options of {@link detectStream}. */
export interface StreamOptions {
  /**
   * Images decoded ahead of the one being detected, at most (default: the pool size + 1; 0, as
   * without workers, decodes each image once the previous one is written).
   */
  readAhead?: number;
  /**
   * Outputs being written while the detector goes on, at most (default: the pool size + 1; 0, as
   * without workers, writes each one before the next detection).
   */
  writeBehind?: number;
  /**
   * Bytes that decoded images ahead and unwritten outputs behind may hold, half each (default
   * 1 GiB). How many images fit ahead is judged from the last decoded one (the first is decoded
   * alone); an image or an output over its half is handled one at a time, as a plain loop would.
   */
  memoryBudget?: number;
  /**
   * Turn each map into a decision (threshold, regions, verdict); its region mask is outlined on
   * the overlay and written as the mask output when the item's outputs name one.
   */
  decide?: (map: ScalarMap) => { decision: Decision; mask: Uint8Array };
}

/** Default {@link StreamOptions.memoryBudget}. */
export const STREAM_MEMORY_BUDGET = 1 << 30;

/** Run `detector` over `items` with `pool` doing the I/O; yields one result per item, in order. */
export async function* detectStream(
  detector: Pick<Detector, "detect">,
  items: Iterable<StreamItem>,
  pool: ImageIo,
  opts: StreamOptions = {},
): AsyncGenerator<StreamResult> {
  const overlap = pool.size > 0 ? pool.size + 1 : 0;
  const readAhead = Math.max(0, opts.readAhead ?? overlap);
  const writeBehind = Math.max(0, opts.writeBehind ?? overlap);
  const half = (opts.memoryBudget ?? STREAM_MEMORY_BUDGET) / 2;
  const source = items[Symbol.iterator]();
  const decoding: { item: StreamItem; start: number; image: Promise<Timed<RgbImage>> }[] = [];
  const writing: Written[] = [];
  let imageBytes = 0; // of the last decoded image
  const refill = (upTo: number) => {
    while (decoding.length < upTo) {
      const next = source.next();
      if (next.done) return;
      const image = pool.decode(next.value.path);
      image.catch(() => {}); // awaited in turn below; keep an early failure from going unhandled
      decoding.push({ item: next.value, start: performance.now(), image });
    }
  };
  const written = () => writing.reduce((sum, w) => sum + (w.done ? 0 : w.bytes), 0);
  refill(1);
  while (decoding.length > 0) {
    const { item, start, image } = decoding.shift()!;
    const decoded = await image.then(
      (d) => d,
      (err: unknown) => err instanceof Error ? err : new Error(String(err)),
    );
    if (!(decoded instanceof Error)) imageBytes = decoded.value.data.byteLength;
    // Decode ahead while this image is detected, as many as fit (none when it alone is too big).
    refill(Math.min(readAhead, Math.floor(half / Math.max(imageBytes, 1)) - 1));
    writing.push(await detectOne(detector, pool, item, start, decoded, opts.decide));
    while (writing.length > writeBehind || (writing.length > 0 && written() > half)) {
      yield await writing.shift()!.result;
    }
    refill(1); // the next image, if none fitted ahead
  }
  while (writing.length > 0) yield await writing.shift()!.result;
}

/** An output being written: its result once on disk, and the bytes it holds until then. */
interface Written {
  readonly result: Promise<StreamResult>;
  readonly bytes: number;
  readonly done: boolean;
}

/**
 * Detect one decoded image and hand its outputs to the pool. Resolves as soon as the detection
 * is done (the detector takes one image at a time), to the write still in progress.
 */
async function detectOne(
  detector: Pick<Detector, "detect">,
  pool: ImageIo,
  item: StreamItem,
  start: number,
  decoded: Timed<RgbImage> | Error,
  decide?: StreamOptions["decide"],
): Promise<Written> {
  const fail = (err: unknown): StreamResult => ({
    path: item.path,
    error: err instanceof Error ? err.message : String(err),
  });
  try {
    if (decoded instanceof Error) throw decoded;
    const { value: image, ms: decode } = decoded;
    const { width, height } = image;
    const det = await detector.detect(image);
    const t0 = performance.now();
    const decided = decide?.(det.map);
    if (decided) det.timings.decide = performance.now() - t0;
    const bytes = [image.data, det.map.data, det.heatmap, det.overlay]
      .reduce((sum, a) => sum + (a?.byteLength ?? 0), 0);
    let done = false;
    const detection = decided ? { ...det, mask: decided.mask } : det;
    const result = pool.write({ detection, image, paths: item.outputs }).then(
      ({ value: outputs, ms: write }): StreamResult => ({
        path: item.path,
        width,
        height,
        score: det.score,
        tiles: det.tiles ?? 1,
        ...(det.used ? { used: det.used } : {}),
        ...(decided ? { decision: decided.decision } : {}),
        outputs,
        ms: { decode, ...det.timings, write, latency: performance.now() - start },
      }),
      fail,
    ).finally(() => done = true);
    return {
      result,
      bytes,
      get done() {
        return done;
      },
    };
  } catch (err) {
    return { result: Promise.resolve(fail(err)), bytes: 0, done: true };
  }
}
