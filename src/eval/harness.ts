/**
 * The evaluation harness: run a detector over every test image of a dataset in MVTec layout,
 * prepare maps and masks like the official evaluation, and compute the metrics per category.
 * The detector is injected (anything with `detect(image)`), so the harness runs without a model.
 * @module
 */
import type { ScalarMap } from "../fca/types.ts";
import type { RgbImage } from "../io/types.ts";
import { decodeGrayMask, readImage as defaultReadImage } from "../io/decode.ts";
import { encodeNpy, readNpy } from "../io/npy.ts";
import { writeFileAtomic } from "../base/atomic.ts";
import { type DatasetImage, type ImageList, listDataset } from "./dataset.ts";
import {
  computePixelMetrics,
  type Curve,
  type EvalSample,
  type SampleLoader,
} from "./pixel_metrics.ts";
import { imageAuroc } from "./image_auroc.ts";
import { prepareSample } from "./prepare.ts";
import type { ProgressBar } from "../base/progress.ts";

/** What the harness needs from a detector. */
export interface DetectorLike {
  detect(image: RgbImage): Promise<{
    map: ScalarMap;
    /** The map at feature resolution, used with `evalSize` (the official script resizes the raw map). */
    featureMap?: ScalarMap;
    /** The image score when it is not the map's maximum (scored instead of the maximum). */
    imageScore?: number;
    timings?: Record<string, number>;
  }>;
}

/** Options of {@link evaluateDataset}. */
export interface HarnessOptions {
  /** Only these categories (default: all). */
  categories?: string[];
  /** Only these images. */
  list?: ImageList;
  /** Pixels removed at each border before scoring. */
  crop?: number;
  /** Score maps and masks resized to N×N. */
  evalSize?: number;
  /** PRO integration limit (default 0.3). */
  integrationLimit?: number;
  /** Output folder: saved maps (`maps/`) and spilled samples live under it. */
  outDir?: string;
  /** Save every map as `<out>/maps/<cat>/<defect>/<id>.npy` and reuse saved maps (resume). */
  saveMaps?: boolean;
  /** Progress reporting (one tick per image); null for none. */
  progress?: ProgressBar | null;
  /** Bytes of prepared samples kept in memory per category before spilling to disk (default 384 MiB). */
  memoryBudget?: number;
  /** Key bins per metric pass (1 MiB each, default 128). */
  slots?: number;
  /** Image reader (default: src/io/decode.ts readImage). */
  readImage?: (path: string) => Promise<RgbImage>;
  /**
   * Called with every scored sample (resized and cropped as scored), e.g. the operating-point
   * metrics of src/eval/operating_point.ts (`operatingPointHook`).
   */
  onSample?: (item: DatasetImage, sample: EvalSample) => void | Promise<void>;
}

/** Metrics and counts of one category; metric values are fractions in [0, 1] or null. */
export interface CategoryResult {
  category: string;
  images: number;
  good: number;
  defective: number;
  regions: number;
  okPixels: number;
  defectPixels: number;
  auPro: number | null;
  pixelAuroc: number | null;
  maxF1: number | null;
  maxF1Threshold: number | null;
  imageAuroc: number | null;
  /** Maps loaded from saved files instead of computed. */
  reusedMaps: number;
  /** Passes over the samples made by the exact metric computation. */
  metricPasses: number;
  /** Seconds spent in detection (including image decoding) and in metrics. */
  detectSeconds: number;
  metricSeconds: number;
  /** Summed per-stage detector timings (ms). */
  stageMs: Record<string, number>;
  proCurve: Curve;
  rocCurve: Curve;
}

/** The result of a whole run. */
export interface EvalReport {
  categories: CategoryResult[];
  /** Mean over categories of each metric (null values left out; null if none). */
  mean: {
    auPro: number | null;
    pixelAuroc: number | null;
    maxF1: number | null;
    imageAuroc: number | null;
  };
  images: number;
  seconds: number;
}

/** A detector, or a factory called once when the first map has to be computed. */
export type DetectorSource = DetectorLike | (() => Promise<DetectorLike>);

/**
 * Evaluate `detector` on the dataset at `root`. Categories are processed one after another;
 * each category's prepared samples stay in memory up to `memoryBudget` and are spilled to a
 * temporary folder beyond it, so memory stays bounded on large sets.
 */
export async function evaluateDataset(
  root: string,
  detector: DetectorSource,
  opts: HarnessOptions = {},
): Promise<EvalReport> {
  const t0 = performance.now();
  const dataset = await listDataset(root, { categories: opts.categories, list: opts.list });
  const readImg = opts.readImage ?? defaultReadImage;
  let det: DetectorLike | null = typeof detector === "function" ? null : detector;
  const getDetector = async () => (det ??= await (detector as () => Promise<DetectorLike>)());
  const results: CategoryResult[] = [];
  let images = 0;
  for (const [category, items] of dataset) {
    const store = new SampleStore(opts.memoryBudget ?? 384 * 2 ** 20, opts.outDir);
    try {
      const stageMs: Record<string, number> = {};
      let reused = 0;
      const td = performance.now();
      for (const item of items) {
        const saved = opts.saveMaps && opts.outDir
          ? await loadSavedMap(opts.outDir, item, opts.evalSize)
          : null;
        let map: ScalarMap, imageScore: number | undefined;
        if (saved) {
          reused++;
          ({ map, imageScore } = saved);
        } else {
          const image = await readImg(item.imagePath);
          const d = await (await getDetector()).detect(image);
          for (const [k, v] of Object.entries(d.timings ?? {})) stageMs[k] = (stageMs[k] ?? 0) + v;
          if (opts.saveMaps && opts.outDir) await saveMap(opts.outDir, item, d);
          map = opts.evalSize !== undefined && d.featureMap ? d.featureMap : d.map;
          imageScore = d.imageScore;
        }
        const mask = item.maskPath
          ? decodeGrayMask(await readFile(item.maskPath), item.maskPath)
          : null;
        const sample = prepareSample(map, mask, { crop: opts.crop, evalSize: opts.evalSize });
        if (imageScore !== undefined) sample.imageScore = imageScore;
        await opts.onSample?.(item, sample);
        await store.add(sample);
        opts.progress?.tick(`${category}/${item.rel}`);
      }
      const detectSeconds = (performance.now() - td) / 1000;
      const tm = performance.now();
      const m = await computePixelMetrics(store.loaders(), {
        integrationLimit: opts.integrationLimit,
        slots: opts.slots,
      });
      images += items.length;
      const defective = m.imageLabels.filter((l) => l).length;
      results.push({
        category,
        images: items.length,
        good: items.length - defective,
        defective,
        regions: m.regions,
        okPixels: m.okPixels,
        defectPixels: m.defectPixels,
        auPro: m.auPro,
        pixelAuroc: m.pixelAuroc,
        maxF1: m.maxF1,
        maxF1Threshold: m.maxF1Threshold,
        imageAuroc: imageAuroc(m.imageScores, m.imageLabels),
        reusedMaps: reused,
        metricPasses: m.passes,
        detectSeconds,
        metricSeconds: (performance.now() - tm) / 1000,
        stageMs,
        proCurve: m.proCurve,
        rocCurve: m.rocCurve,
      });
    } finally {
      await store.dispose();
    }
  }
  opts.progress?.finish();
  const mean = (f: (r: CategoryResult) => number | null) => {
    const v = results.map(f).filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return {
    categories: results,
    mean: {
      auPro: mean((r) => r.auPro),
      pixelAuroc: mean((r) => r.pixelAuroc),
      maxF1: mean((r) => r.maxF1),
      imageAuroc: mean((r) => r.imageAuroc),
    },
    images,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Path of a saved map: `<out>/maps/<cat>/<defect>/<id>.npy` (`.feat.npy` at feature resolution). */
export function savedMapPath(outDir: string, item: DatasetImage, feature = false): string {
  return `${outDir}/maps/${item.category}/${item.defect}/${item.id}${feature ? ".feat" : ""}.npy`;
}

/** Path of a saved image score (written only when it is not the map's maximum). */
function savedScorePath(outDir: string, item: DatasetImage): string {
  return `${outDir}/maps/${item.category}/${item.defect}/${item.id}.score.json`;
}

async function saveMap(
  outDir: string,
  item: DatasetImage,
  d: { map: ScalarMap; featureMap?: ScalarMap; imageScore?: number },
) {
  const { map, featureMap: feat, imageScore } = d;
  await Deno.mkdir(`${outDir}/maps/${item.category}/${item.defect}`, { recursive: true });
  // The score goes first: a map on disk means the record is complete (the map is the marker).
  if (imageScore !== undefined) {
    await writeFileAtomic(
      savedScorePath(outDir, item),
      new TextEncoder().encode(JSON.stringify({ image_score: imageScore })),
    );
  }
  if (feat) {
    await writeFileAtomic(
      savedMapPath(outDir, item, true),
      encodeNpy(feat.data, [feat.height, feat.width]),
    );
  }
  await writeFileAtomic(savedMapPath(outDir, item), encodeNpy(map.data, [map.height, map.width]));
}

/**
 * A saved map for `item` (the feature-resolution one with evalSize) and its saved image score, or
 * null when there is none.
 */
async function loadSavedMap(
  outDir: string,
  item: DatasetImage,
  evalSize?: number,
): Promise<{ map: ScalarMap; imageScore?: number } | null> {
  const paths = evalSize !== undefined
    ? [savedMapPath(outDir, item, true), savedMapPath(outDir, item)]
    : [savedMapPath(outDir, item)];
  if (!(await exists(savedMapPath(outDir, item)))) return null;
  for (const p of paths) {
    if (!(await exists(p))) continue;
    const a = await readNpy(p);
    if (a.shape.length !== 2) {
      throw new Error(`${p}: saved map must be 2-D, got shape [${a.shape}]`);
    }
    const map = { height: a.shape[0], width: a.shape[1], data: a.data };
    return { map, imageScore: await loadSavedScore(savedScorePath(outDir, item)) };
  }
  return null;
}

async function loadSavedScore(path: string): Promise<number | undefined> {
  if (!(await exists(path))) return undefined;
  const v = JSON.parse(await Deno.readTextFile(path))?.image_score;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`${path}: expected {"image_score": <finite number>}`);
  }
  return v;
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

async function readFile(p: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(p);
  } catch (e) {
    throw new Error(`${p}: cannot read (${(e as Error).message})`);
  }
}

/** Prepared samples of one category: in memory up to a byte budget, then in a temporary folder. */
class SampleStore {
  private readonly items: (EvalSample | {
    path: string;
    width: number;
    height: number;
    hasMask: boolean;
    imageScore?: number;
  })[] = [];
  private bytes = 0;
  private spillDir: string | null = null;

  constructor(private readonly budget: number, private readonly outDir?: string) {}

  async add(s: EvalSample): Promise<void> {
    const size = s.scores.byteLength + (s.mask?.byteLength ?? 0);
    if (this.bytes + size <= this.budget) {
      this.bytes += size;
      this.items.push(s);
      return;
    }
    if (!this.spillDir) {
      if (this.outDir) {
        this.spillDir = `${this.outDir}/.spill-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
        await Deno.mkdir(this.spillDir, { recursive: true });
      } else this.spillDir = await Deno.makeTempDir({ prefix: "fca-eval-" });
    }
    const path = `${this.spillDir}/${this.items.length}.bin`;
    const buf = new Uint8Array(size);
    buf.set(new Uint8Array(s.scores.buffer, s.scores.byteOffset, s.scores.byteLength));
    if (s.mask) buf.set(s.mask, s.scores.byteLength);
    await Deno.writeFile(path, buf);
    this.items.push({
      path,
      width: s.width,
      height: s.height,
      hasMask: s.mask !== null,
      imageScore: s.imageScore,
    });
  }

  loaders(): SampleLoader[] {
    return this.items.map((it) => {
      if (!("path" in it)) return () => it;
      return async () => {
        const buf = await Deno.readFile(it.path);
        const n = it.width * it.height;
        return {
          width: it.width,
          height: it.height,
          scores: new Float32Array(buf.buffer, buf.byteOffset, n),
          mask: it.hasMask ? buf.subarray(4 * n, 5 * n) : null,
          imageScore: it.imageScore,
        };
      };
    });
  }

  async dispose(): Promise<void> {
    if (this.spillDir) await Deno.remove(this.spillDir, { recursive: true }).catch(() => {});
  }
}
