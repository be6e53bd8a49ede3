/**
 * Large-image and batch figures for the CPU backend (issue 6): wall time and peak RSS of one run
 * per process, so that the peak belongs to that run alone.
 *
 *   deno run -A bench/large.ts --strip [--tile N]          256×4096 strip
 *   deno run -A bench/large.ts --square 8192 [--tile N]    N×N image
 *   deno run -A --v8-flags=--expose-gc bench/large.ts --batch 1000 [--size 96]
 *
 * `--tile 0` (default) lets the detector decide; `--tile N` forces N-pixel tiles. Large inputs
 * are a generated texture (1024², with a defect) mirrored to size, so no data is needed.
 * @module
 */
import { parseArgs } from "node:util";
import { Detector } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import type { RgbImage } from "../src/io/types.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    strip: { type: "boolean", default: false },
    square: { type: "string" },
    batch: { type: "string" },
    size: { type: "string", default: "96" },
    tile: { type: "string", default: "0" },
    model: { type: "string" },
    threads: { type: "string" },
  },
});
const MiB = 2 ** 20;
const tile = Number(values.tile);
const threads = values.threads ? Number(values.threads) : undefined;

/** Peak and current resident set size in bytes (Linux /proc; 0 elsewhere). */
function rss(): { peak: number; now: number } {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const kb = (key: string) =>
      Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0) * 1024;
    return { peak: kb("VmHWM"), now: kb("VmRSS") };
  } catch {
    return { peak: 0, now: Deno.memoryUsage().rss };
  }
}

/** A `width`×`height` texture: a 1024² generated one, mirrored (seamless) to size. */
function mirroredTexture(width: number, height: number, base = 1024): RgbImage {
  const src = syntheticTexture(base, { seed: 1 }).image;
  const mirror = (i: number) => {
    const m = i % (2 * base);
    return m < base ? m : 2 * base - 1 - m;
  };
  const cols = Int32Array.from({ length: width }, (_, x) => mirror(x));
  const data = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const s = (c * base + mirror(y)) * base, d = (c * height + y) * width;
      for (let x = 0; x < width; x++) data[d + x] = src.data[s + cols[x]];
    }
  }
  return { width, height, data };
}

function gcIfExposed(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; gc && i < 3; i++) gc();
  return gc !== undefined;
}

const detector = await Detector.create({ backend: "cpu", model: values.model, tile, threads });
console.log(
  `backend ${detector.backend} (${detector.adapter}), ${navigator.hardwareConcurrency} cores`,
);
try {
  if (values.batch) {
    const n = Number(values.batch), size = Number(values.size);
    const images = [1, 2, 3, 4].map((seed) => syntheticTexture(size, { seed }).image);
    const first: Float32Array[] = [];
    let identical = true, warm = { rss: 0, heap: 0 };
    const trail: number[] = []; // RSS (MiB, after GC) every 200 images: flat, or creeping?
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (i === Math.min(20, n - 1)) {
        gcIfExposed();
        warm = { rss: Deno.memoryUsage().rss, heap: Deno.memoryUsage().heapUsed };
      }
      if (i > 0 && i % 200 === 0) {
        gcIfExposed();
        trail.push(+(Deno.memoryUsage().rss / MiB).toFixed(1));
      }
      const k = i % images.length;
      const det = await detector.detect({ ...images[k], data: images[k].data.slice() });
      if (i < images.length) first.push(det.map.data);
      else identical &&= det.map.data.every((v, j) => Object.is(v, first[k][j]));
    }
    const seconds = (performance.now() - t0) / 1000;
    const exposed = gcIfExposed();
    const end = { rss: Deno.memoryUsage().rss, heap: Deno.memoryUsage().heapUsed };
    console.log(JSON.stringify({
      case: `batch ${n} x ${size}x${size}`,
      seconds: +seconds.toFixed(1),
      msPerImage: +(1000 * seconds / n).toFixed(1),
      identical,
      gc: exposed ? "forced before readings" : "not exposed (add --v8-flags=--expose-gc)",
      rssAfterWarmupMiB: +(warm.rss / MiB).toFixed(1),
      rssEndMiB: +(end.rss / MiB).toFixed(1),
      rssEvery200MiB: trail,
      heapAfterWarmupMiB: +(warm.heap / MiB).toFixed(1),
      heapEndMiB: +(end.heap / MiB).toFixed(1),
      peakRssMiB: +(rss().peak / MiB).toFixed(1),
    }));
  } else {
    const [width, height] = values.strip
      ? [4096, 256]
      : [Number(values.square ?? 8192), Number(values.square ?? 8192)];
    const image = mirroredTexture(width, height);
    const beforeRss = rss().now;
    const t0 = performance.now();
    const det = await detector.detect(image);
    const seconds = (performance.now() - t0) / 1000;
    const px = width * height;
    console.log(JSON.stringify({
      case: `${width}x${height}`,
      tile: tile || "auto",
      seconds: +seconds.toFixed(1),
      timingsS: Object.fromEntries(
        Object.entries(det.timings).map(([k, v]) => [k, +(v / 1000).toFixed(2)]),
      ),
      score: det.score,
      featureMap: det.featureMap ? `${det.featureMap.width}x${det.featureMap.height}` : undefined,
      rssBeforeDetectMiB: +(beforeRss / MiB).toFixed(1),
      peakRssMiB: +(rss().peak / MiB).toFixed(1),
      // Image-sized by nature: the decoded image (float32 RGB), the map and the RGBA heatmap.
      imageSizedMiB: +((px * 12 + px * 4 + px * 4) / MiB).toFixed(1),
      untiledFeaturesMiB: +((512 * 4 * Math.ceil(width / 8) * Math.ceil(height / 8)) / MiB).toFixed(
        1,
      ),
    }));
  }
} finally {
  await detector.dispose();
}
