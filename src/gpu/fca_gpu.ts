/**
 * The FCA stages on WebGPU: min-max scaling (with a NaN/Inf check), median reference, windowed
 * rank matching with the σs blur and σp weights, overlap-add, bilinear upsampling, the score and
 * the colormap — all WGSL kernels in `kernels/`, recorded into one command encoder and submitted
 * once per image. The CPU modules in `src/fca/` are the specification these are tested against.
 *
 * The same submission runs the rest of the design space that the GPU supports
 * ({@link GpuDesign}): the random reference (kernels/reference_tile.wgsl) and the sww, hist and
 * moments statistics (kernels/stats_*.wgsl) in place of FCA, with no readback before the final
 * map.
 *
 * Kernels, their bindings (by name) and dispatches come from the table in `./kernels.ts`; the
 * `Dims`, `StatsDims` and `TileOrigin` uniforms are written by field name through layouts
 * reflected from the WGSL (`./wgsl_reflect.ts`). Pipelines are compiled once per device
 * ({@link GpuFca.create}; kernels beyond the default design's on first use); the buffers of one
 * problem size form a plan that is reused while the size stays the same and destroyed when it
 * changes or on {@link GpuFca.dispose}, so a stream of images does not leak.
 * @module
 */
import { SerialQueue } from "../base/serial_queue.ts";
import { tileCounts } from "../fca/median_reference.ts";
import { randomReferenceOrigin } from "../fca/references.ts";
import { BLUR_SIZE, gaussian1d, patchWeights, validateParams } from "../fca/params.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../fca/types.ts";
import { packTaps } from "./taps.ts";
import { createBuffer, readBack } from "./buffers.ts";
import {
  type BindingResource,
  type Bindings,
  type CompiledKernel,
  compileKernels,
  createBindGroup,
  type Dispatch,
  dispatchOf,
  type Extent,
  KERNEL_NAMES,
  type KernelName,
  MAX_BINS,
  windowsPerGroup,
} from "./kernels.ts";
import { loadKernel } from "./kernel_source.ts";
import { reflectStruct, type StructLayout, writeStruct } from "./wgsl_reflect.ts";

/** Features on the GPU: the raw backbone output, f32 CHW (batch 1). */
export interface GpuFcaInput {
  /** Buffer with STORAGE usage holding at least channels·height·width f32 values. */
  features: GPUBuffer;
  channels: number;
  height: number;
  width: number;
  /** True when the features are already min-max scaled: the scaling step is skipped. */
  prescaled?: boolean;
}

/** Output size, colormap and options of {@link GpuFca.run}. */
export interface GpuFcaOutputSpec {
  /** Size of the upsampled map (normally the input image's). */
  height: number;
  width: number;
  /** 256 RGBA8 entries (1024 bytes), index 0 for `lo`, 255 for `hi`. */
  colormapLut: Uint8Array;
  /** Colormap range; default: the map's own minimum and maximum. */
  range?: { lo: number; hi: number };
  /** Also read back the map at feature resolution (FCA or the design's statistic). */
  keepFeatureMap?: boolean;
  /**
   * Also blend the heatmap over this image, planar RGB `[3, height, width]` f32 in [0, 1] at the
   * output size (e.g. the backbone's uploaded input), with opacity `alpha`: see `overlayRgb`.
   */
  overlay?: { image: GPUBuffer; alpha: number };
}

/** Results of {@link GpuFca.run}, read back to the CPU. */
export interface GpuFcaOutput {
  /** The upsampled anomaly map, outHeight×outWidth row-major. */
  map: Float32Array;
  /** Image score: the maximum of `map`. */
  score: number;
  /** RGBA8 colormap of `map` (4 bytes per pixel) scaled between `lo` and `hi`. */
  heatmap: Uint8Array;
  lo: number;
  hi: number;
  /** The design's map at feature resolution (height×width), when `keepFeatureMap` was set. */
  featureMap?: Float32Array;
  /** The overlay as interleaved RGB8 (3 bytes per pixel), when `overlay` was given. */
  overlayRgb?: Uint8Array;
}

/** Patch statistics {@link GpuFca.run} computes on the device (paper Sec. 3.2). */
export type GpuStatsKind = "fca" | "sww" | "hist" | "moments";
/** Reference selections on the device (paper Sec. 3.3); hist and moments take only `median`. */
export type GpuReferenceKind = "median" | "random";

/**
 * One point of the design space on the GPU. `fca` + `median` is the paper's default; `random`
 * is one complete T×T tile chosen by `seed` as src/fca/references.ts `randomReference` chooses
 * it. hist and moments compare with the spatial mean statistics and take `median` only.
 */
export interface GpuDesign {
  stats: GpuStatsKind;
  reference: GpuReferenceKind;
  /** Seed of the random reference (ignored for `median`). */
  seed: number;
}

/** The paper's default design (what {@link GpuFca.run} does without one). */
export const DEFAULT_GPU_DESIGN: Readonly<GpuDesign> = Object.freeze({
  stats: "fca",
  reference: "median",
  seed: 0,
});
/** Statistics the GPU runs. */
export const GPU_STATS_KINDS: readonly GpuStatsKind[] = ["fca", "sww", "hist", "moments"];
/** References the GPU runs. */
export const GPU_REFERENCE_KINDS: readonly GpuReferenceKind[] = ["median", "random"];

/** Bins of the histogram statistic (the reference code's default). */
export const GPU_HIST_BINS = 10;
/** σ of the T-tap Gaussian that forms local histograms and moments (reference default). */
export const GPU_STATS_SIGMA = 6;

/** Options of {@link GpuFca.create}. */
export interface GpuFcaOptions {
  /**
   * Record every stage in its own compute pass with timestamp queries (when the device has
   * `timestamp-query`) and expose the GPU time per stage in {@link GpuFca.lastTimings}.
   */
  profile?: boolean;
  /**
   * Kernels compiled by `create` (so that their errors surface there); default: those of the
   * paper's default design. The others compile on first use (once per device).
   */
  kernels?: readonly KernelName[];
}

/** Largest patch side the rank-matching kernel handles (T·T values per 256-invocation group). */
export const MAX_GPU_PATCH = 15;

export { windowsPerGroup };

/** Kernels of the paper's default run (scaling, median, FCA, upsampling, colormap, overlay). */
const DEFAULT_KERNELS = [
  "minmax_scale",
  "median_reference_rank",
  "median_reference_select",
  "rank_matching",
  "overlap_add",
  "upsample",
  "map_stats",
  "colormap",
  "overlay",
] as const satisfies readonly KernelName[];

/** Problem size that determines every buffer. */
interface PlanKey {
  channels: number;
  height: number;
  width: number;
  patch: number;
  outHeight: number;
  outWidth: number;
}

/** Buffers created on first use, by name (see {@link GpuFca.#extra}). */
type Extra =
  | "sorted"
  | "reference"
  | "weights"
  | "contrib"
  | "tile"
  | "statsDims"
  | "statsTaps"
  | "bins"
  | "binTop"
  | "rep"
  | "means"
  | "upload";

/** Buffers (and bind groups) for one problem size. */
interface Plan extends PlanKey {
  /** Complete T×T tiles along each axis (0 when none fits: no median reference then). */
  tilesY: number;
  tilesX: number;
  dims: GPUBuffer;
  scaled: GPUBuffer;
  /** The map at feature resolution (FCA or the chosen statistic). */
  featureMap: GPUBuffer;
  taps: GPUBuffer;
  map: GPUBuffer;
  stats: GPUBuffer;
  lut: GPUBuffer;
  rgba: GPUBuffer;
  /** Packed RGB8 overlay, `ceil(3 * count / 4)` words. */
  overlay: GPUBuffer;
  mapRead: GPUBuffer;
  rgbaRead: GPUBuffer;
  overlayRead: GPUBuffer;
  statsRead: GPUBuffer;
  featureMapRead: GPUBuffer;
  extra: Map<Extra, GPUBuffer>;
  /** Each kernel's bind group with the resources it was built for (rebuilt when they change). */
  groups: Map<KernelName, { resources: Record<string, BindingResource>; group: GPUBindGroup }>;
}

/** Which stages one submission records, and where the features come from. */
interface Work {
  /** The features as given (null when no stage reads them). */
  features: GPUBuffer | null;
  /** Min-max scale the features first (the later stages read the scaled copy). */
  scale: boolean;
  /** Reference to compute; "given" = the caller wrote the plan's reference buffer. */
  reference: GpuReferenceKind | "given" | null;
  /** Seed of the random reference. */
  seed: number;
  /** Statistic at feature resolution into featureMap (null: none). */
  stats: GpuStatsKind | null;
  upsample: boolean;
  colormap: boolean;
  /** The image to blend the heatmap over (needs `colormap`). */
  overlay: GPUBuffer | null;
}

const NOTHING: Work = {
  features: null,
  scale: false,
  reference: null,
  seed: 0,
  stats: null,
  upsample: false,
  colormap: false,
  overlay: null,
};

/** Uniforms written per submission. */
interface Uniforms {
  params: FcaParams;
  range?: { lo: number; hi: number };
  alpha?: number;
}

type Step = [KernelName, GPUBindGroup, Dispatch];

/** The uniform structs the host writes, as the WGSL lays them out. */
interface Layouts {
  /** `Dims` of every FCA kernel (kernels/lib/fca_dims.wgsl). */
  dims: StructLayout;
  /** `StatsDims` of the stats_* kernels (kernels/lib/stats_dims.wgsl). */
  statsDims: StructLayout;
  /** `TileOrigin` of kernels/reference_tile.wgsl. */
  tile: StructLayout;
}

/** The uniform layouts, reflected from the WGSL sources. */
async function reflectLayouts(): Promise<Layouts> {
  const [dims, statsDims, tile] = await Promise.all(
    ["lib/fca_dims", "lib/stats_dims", "reference_tile"].map(loadKernel),
  );
  return {
    dims: reflectStruct(dims, "Dims"),
    statsDims: reflectStruct(statsDims, "StatsDims"),
    tile: reflectStruct(tile, "TileOrigin"),
  };
}

/** The WebGPU FCA stages (and the design space's statistics) on one device. */
export class GpuFca {
  /** GPU milliseconds per stage of the last submission (profile mode with timestamp-query). */
  lastTimings: Record<string, number> = {};
  #plan: Plan | null = null;
  /** Calls share the plan's buffers, so they run one at a time. */
  #queue = new SerialQueue();
  #kernels: Partial<Record<KernelName, CompiledKernel>>;
  /** Uniform layouts reflected from the WGSL. */
  #layouts: Layouts;
  #querySet: GPUQuerySet | null = null;
  #queryResolve: GPUBuffer | null = null;
  #queryRead: GPUBuffer | null = null;

  private constructor(
    readonly device: GPUDevice,
    kernels: Partial<Record<KernelName, CompiledKernel>>,
    layouts: Layouts,
    profile: boolean,
  ) {
    this.#kernels = kernels;
    this.#layouts = layouts;
    if (profile && device.features.has("timestamp-query")) {
      const count = 2 * KERNEL_NAMES.length;
      this.#querySet = device.createQuerySet({ label: "fca timestamps", type: "timestamp", count });
      this.#queryResolve = createBuffer(
        device,
        "fca timestamps resolve",
        count * 8,
        GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      );
      this.#queryRead = createBuffer(
        device,
        "fca timestamps read",
        count * 8,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      );
    }
  }

  /** Compile the FCA pipelines for `device` (once; reuse the instance for all images). */
  static async create(device: GPUDevice, options: GpuFcaOptions = {}): Promise<GpuFca> {
    const [kernels, layouts] = await Promise.all([
      compileKernels(device, options.kernels ?? DEFAULT_KERNELS),
      reflectLayouts(),
    ]);
    return new GpuFca(device, kernels, layouts, options.profile ?? false);
  }

  /**
   * The whole detection stage for one image, in one submission with one readback at the end:
   * scaling (unless `input.prescaled`), the reference of `design` (median or random tile), its
   * statistic at feature resolution (fca, sww, hist or moments), upsampling to `out`'s size,
   * score, colormap and overlay. Without `design`, the paper's default (fca + median). Results
   * equal src/fca/stats/mod.ts `anomalyMapCpu` of the scaled features, then `resizeBilinear`.
   * Throws if the features hold NaN or Inf (when scaling) or the design is not one the GPU runs.
   */
  run(
    input: GpuFcaInput,
    params: FcaParams,
    out: GpuFcaOutputSpec,
    design: GpuDesign = DEFAULT_GPU_DESIGN,
  ): Promise<GpuFcaOutput> {
    return this.#queue.run(() => this.#runNow(input, params, out, design));
  }

  /** Min-max scaled copy of `features` (scaling kernel only); throws on NaN or Inf. */
  scale(features: FeatureMap): Promise<Float32Array> {
    return this.#queue.run(() => this.#scaleNow(features));
  }

  /** Median reference `[C, T*T]` of `features` as given (no scaling). */
  medianReference(features: FeatureMap, patch: number): Promise<Float32Array> {
    return this.#queue.run(() => this.#referenceNow(features, patch, "median", 0));
  }

  /** Random reference `[C, T*T]` of `features` as given: randomReference's tile for `seed`. */
  randomReference(features: FeatureMap, patch: number, seed: number): Promise<Float32Array> {
    return this.#queue.run(() => this.#referenceNow(features, patch, "random", seed));
  }

  /**
   * The FCA map at feature resolution. By default the features are used as given (like the
   * golden vectors, which are already scaled); `scale: true` runs the scaling kernel first;
   * `reference` replaces the GPU median reference.
   */
  fcaMap(
    features: FeatureMap,
    params: FcaParams,
    options: { scale?: boolean; reference?: Float32Array } = {},
  ): Promise<ScalarMap> {
    return this.designMap(features, params, DEFAULT_GPU_DESIGN, options);
  }

  /**
   * The map of `design` at feature resolution of host `features` (used as given unless
   * `scale`); `reference` ([C, T*T]) replaces the design's reference for fca and sww.
   */
  designMap(
    features: FeatureMap,
    params: FcaParams,
    design: GpuDesign,
    options: { scale?: boolean; reference?: Float32Array } = {},
  ): Promise<ScalarMap> {
    return this.#queue.run(() => this.#designMapNow(features, params, design, options));
  }

  /** Bilinear upsampling kernel alone (skimage order 1, mirrored borders). */
  upsample(map: ScalarMap, outHeight: number, outWidth: number): Promise<ScalarMap> {
    return this.#queue.run(() => this.#upsampleNow(map, outHeight, outWidth));
  }

  /**
   * Colormap kernel (with the min/max reduction) alone: RGBA8 of `map` through `lut`, between
   * `range` or the map's own minimum and maximum, which are returned.
   */
  colormap(
    map: ScalarMap,
    lut: Uint8Array,
    range?: { lo: number; hi: number },
  ): Promise<{ rgba: Uint8Array; lo: number; hi: number }> {
    return this.#queue.run(() => this.#colormapNow(map, lut, range));
  }

  /** Destroy every buffer this instance created (the device itself is the caller's). */
  dispose(): void {
    this.#destroyPlan();
    this.#querySet?.destroy();
    this.#queryResolve?.destroy();
    this.#queryRead?.destroy();
    this.#querySet = this.#queryResolve = this.#queryRead = null;
  }

  async #runNow(
    input: GpuFcaInput,
    params: FcaParams,
    out: GpuFcaOutputSpec,
    design: GpuDesign,
  ): Promise<GpuFcaOutput> {
    checkDesign(design, params);
    const { channels, height, width } = input;
    if (input.features.size < channels * height * width * 4) {
      throw new Error(
        `src/gpu/fca_gpu.ts: features buffer holds ${input.features.size} bytes, ` +
          `fewer than ${channels}x${height}x${width} f32 values`,
      );
    }
    if (out.colormapLut.length !== 1024) {
      throw new Error(`src/gpu/fca_gpu.ts: colormapLut must be 256 RGBA8 entries (1024 bytes)`);
    }
    const plan = this.#planFor({
      channels,
      height,
      width,
      patch: params.patch,
      outHeight: out.height,
      outWidth: out.width,
    });
    const count = out.height * out.width;
    if (out.overlay && out.overlay.image.size < 3 * count * 4) {
      throw new Error(
        `src/gpu/fca_gpu.ts: overlay image holds ${out.overlay.image.size} bytes, fewer than ` +
          `3x${out.height}x${out.width} f32 values`,
      );
    }
    this.device.queue.writeBuffer(plan.lut, 0, new Uint8Array(out.colormapLut));
    const reads: [GPUBuffer, GPUBuffer, number][] = [
      [plan.map, plan.mapRead, count * 4],
      [plan.rgba, plan.rgbaRead, count * 4],
      [plan.stats, plan.statsRead, 16],
    ];
    const fmapAt = out.keepFeatureMap ? reads.length : -1;
    if (out.keepFeatureMap) reads.push([plan.featureMap, plan.featureMapRead, height * width * 4]);
    const overlayAt = out.overlay ? reads.length : -1;
    if (out.overlay) reads.push([plan.overlay, plan.overlayRead, 3 * count]);
    const data = await this.#execute(
      plan,
      {
        features: input.features,
        scale: !input.prescaled,
        reference: design.stats === "fca" || design.stats === "sww" ? design.reference : null,
        seed: design.seed,
        stats: design.stats,
        upsample: true,
        colormap: true,
        overlay: out.overlay?.image ?? null,
      },
      { params, range: out.range, alpha: out.overlay?.alpha },
      reads,
    );
    const [map, rgba, stats] = data;
    const words = new Uint32Array(stats);
    checkFinite(words);
    const [lo, hi] = out.range ? [out.range.lo, out.range.hi] : decodeRange(words);
    return {
      map: new Float32Array(map),
      score: decodeRange(words)[1],
      heatmap: new Uint8Array(rgba),
      lo,
      hi,
      ...(fmapAt >= 0 ? { featureMap: new Float32Array(data[fmapAt]) } : {}),
      ...(overlayAt >= 0 ? { overlayRgb: new Uint8Array(data[overlayAt], 0, 3 * count) } : {}),
    };
  }

  async #scaleNow(features: FeatureMap): Promise<Float32Array> {
    const plan = this.#planForFeatures(features, 1);
    const n = features.channels * features.height * features.width;
    const [scaled, stats] = await this.#execute(
      plan,
      { ...NOTHING, features: this.#upload(plan, features), scale: true },
      { params: { patch: 1, sigmaP: 1, sigmaS: 0 } },
      [[plan.scaled, null, n * 4], [plan.stats, plan.statsRead, 16]],
    );
    checkFinite(new Uint32Array(stats));
    return new Float32Array(scaled);
  }

  async #referenceNow(
    features: FeatureMap,
    patch: number,
    reference: GpuReferenceKind,
    seed: number,
  ): Promise<Float32Array> {
    const params = { patch, sigmaP: 1, sigmaS: 0 };
    checkParams(params);
    const plan = this.#planForFeatures(features, patch);
    const [ref] = await this.#execute(
      plan,
      { ...NOTHING, features: this.#upload(plan, features), reference, seed },
      { params },
      [[this.#extra(plan, "reference"), null, features.channels * patch * patch * 4]],
    );
    return new Float32Array(ref);
  }

  async #designMapNow(
    features: FeatureMap,
    params: FcaParams,
    design: GpuDesign,
    options: { scale?: boolean; reference?: Float32Array },
  ): Promise<ScalarMap> {
    checkDesign(design, params);
    const plan = this.#planForFeatures(features, params.patch);
    const ranked = design.stats === "fca" || design.stats === "sww";
    const given = ranked && options.reference !== undefined;
    if (given) {
      const ref = options.reference!;
      if (ref.length !== features.channels * params.patch * params.patch) {
        throw new Error(`src/gpu/fca_gpu.ts: reference must hold C*T*T values`);
      }
      this.device.queue.writeBuffer(this.#extra(plan, "reference"), 0, new Float32Array(ref));
    }
    const n = features.height * features.width;
    const [map, stats] = await this.#execute(
      plan,
      {
        ...NOTHING,
        features: this.#upload(plan, features),
        scale: options.scale ?? false,
        reference: given ? "given" : ranked ? design.reference : null,
        seed: design.seed,
        stats: design.stats,
      },
      { params },
      [[plan.featureMap, plan.featureMapRead, n * 4], [plan.stats, plan.statsRead, 16]],
    );
    checkFinite(new Uint32Array(stats));
    return { height: features.height, width: features.width, data: new Float32Array(map) };
  }

  async #upsampleNow(map: ScalarMap, outHeight: number, outWidth: number): Promise<ScalarMap> {
    const plan = this.#planFor({
      channels: 1,
      height: map.height,
      width: map.width,
      patch: 1,
      outHeight,
      outWidth,
    });
    this.device.queue.writeBuffer(plan.featureMap, 0, new Float32Array(map.data));
    const [out] = await this.#execute(
      plan,
      { ...NOTHING, upsample: true },
      { params: { patch: 1, sigmaP: 1, sigmaS: 0 } },
      [[plan.map, plan.mapRead, outHeight * outWidth * 4]],
    );
    return { height: outHeight, width: outWidth, data: new Float32Array(out) };
  }

  async #colormapNow(
    map: ScalarMap,
    lut: Uint8Array,
    range?: { lo: number; hi: number },
  ): Promise<{ rgba: Uint8Array; lo: number; hi: number }> {
    const plan = this.#planFor({
      channels: 1,
      height: map.height,
      width: map.width,
      patch: 1,
      outHeight: map.height,
      outWidth: map.width,
    });
    this.device.queue.writeBuffer(plan.map, 0, new Float32Array(map.data));
    this.device.queue.writeBuffer(plan.lut, 0, new Uint8Array(lut));
    const n = map.height * map.width;
    const [rgba, stats] = await this.#execute(
      plan,
      { ...NOTHING, colormap: true },
      { params: { patch: 1, sigmaP: 1, sigmaS: 0 }, range },
      [[plan.rgba, plan.rgbaRead, n * 4], [plan.stats, plan.statsRead, 16]],
    );
    const [lo, hi] = range ? [range.lo, range.hi] : decodeRange(new Uint32Array(stats));
    return { rgba: new Uint8Array(rgba), lo, hi };
  }

  /** The kernels `work` records, compiled (on first use for the ones `create` did not). */
  async #kernelsFor(work: Work): Promise<void> {
    const names: KernelName[] = [];
    if (work.scale) names.push("minmax_scale");
    if (work.reference === "median") names.push("median_reference_rank", "median_reference_select");
    if (work.reference === "random") names.push("reference_tile");
    if (work.stats === "fca") names.push("rank_matching", "overlap_add");
    if (work.stats === "sww") names.push("rank_matching", "stats_sww_sum");
    if (work.stats === "hist") names.push("stats_hist_bins", "stats_hist_mean", "stats_hist_emd");
    if (work.stats === "moments") names.push("stats_moments_mean", "stats_moments_map");
    if (work.upsample) names.push("upsample");
    if (work.upsample || work.colormap) names.push("map_stats");
    if (work.colormap) names.push("colormap");
    if (work.overlay) names.push("overlay");
    const missing = names.filter((n) => this.#kernels[n] === undefined);
    if (missing.length > 0) {
      Object.assign(this.#kernels, await compileKernels(this.device, missing));
    }
  }

  /**
   * Record `work`, submit once, and read back `reads` ([src, staging?, bytes]) after that one
   * submission: nothing is read back before the final results.
   */
  async #execute(
    plan: Plan,
    work: Work,
    uniforms: Uniforms,
    reads: [GPUBuffer, GPUBuffer | null, number][],
  ): Promise<ArrayBuffer[]> {
    const { channels: C, height: H, width: W, patch: T } = plan;
    if (work.reference === "median" || work.reference === "random") tileCounts(H, W, T);
    await this.#kernelsFor(work);
    this.#writeUniforms(plan, work, uniforms);
    const device = this.device;
    const encoder = device.createCommandEncoder({ label: "fca" });
    encoder.clearBuffer(plan.stats);
    const extent: Extent = {
      channels: C,
      height: H,
      width: W,
      area: T * T,
      tiles: plan.tilesY * plan.tilesX,
      windowsPerGroup: windowsPerGroup(T),
      count: plan.outHeight * plan.outWidth,
    };
    const steps: Step[] = [];
    const step = <K extends KernelName>(kernel: K, resources: Bindings<K>) => {
      steps.push([kernel, this.#group(plan, kernel, resources), dispatchOf(kernel, extent)]);
    };
    const dims = plan.dims;
    const input = work.features ?? plan.scaled; // plan.scaled when no stage reads the input
    const features = work.scale ? plan.scaled : input;
    if (work.scale) {
      step("minmax_scale", { dims, features: input, scaled: plan.scaled, stats: plan.stats });
    }
    if (work.reference === "median") {
      const sorted = this.#extra(plan, "sorted");
      step("median_reference_rank", { dims, features, sorted });
      step("median_reference_select", { dims, sorted, reference: this.#extra(plan, "reference") });
    } else if (work.reference === "random") {
      step("reference_tile", {
        dims,
        tile: this.#extra(plan, "tile"),
        features,
        reference: this.#extra(plan, "reference"),
      });
    }
    if (work.stats === "fca" || work.stats === "sww") {
      const contrib = this.#extra(plan, "contrib");
      step("rank_matching", {
        dims,
        features,
        reference: this.#extra(plan, "reference"),
        weights: this.#extra(plan, "weights"),
        contrib,
      });
      if (work.stats === "fca") step("overlap_add", { dims, contrib, map: plan.featureMap });
      else {
        step("stats_sww_sum", {
          dims: this.#extra(plan, "statsDims"),
          contrib,
          out: plan.featureMap,
        });
      }
    } else if (work.stats === "hist") {
      const sd = this.#extra(plan, "statsDims"), taps = this.#extra(plan, "statsTaps");
      const bins = this.#extra(plan, "bins"), binTop = this.#extra(plan, "binTop");
      const rep = this.#extra(plan, "rep");
      encoder.clearBuffer(binTop);
      step("stats_hist_bins", { dims: sd, features, bins, binTop });
      step("stats_hist_mean", { dims: sd, bins, taps, rep });
      step("stats_hist_emd", { dims: sd, bins, taps, rep, binTop, out: plan.featureMap });
    } else if (work.stats === "moments") {
      const sd = this.#extra(plan, "statsDims"), taps = this.#extra(plan, "statsTaps");
      const means = this.#extra(plan, "means");
      step("stats_moments_mean", { dims: sd, features, taps, means });
      step("stats_moments_map", { dims: sd, features, taps, means, out: plan.featureMap });
    }
    if (work.upsample) {
      step("upsample", { dims, src: plan.featureMap, taps: plan.taps, dst: plan.map });
    }
    if (work.colormap || work.upsample) {
      step("map_stats", { dims, map: plan.map, stats: plan.stats });
    }
    if (work.colormap) {
      step("colormap", {
        dims,
        map: plan.map,
        lut: plan.lut,
        stats: plan.stats,
        rgba: plan.rgba,
      });
    }
    if (work.overlay) {
      step("overlay", { dims, rgba: plan.rgba, image: work.overlay, rgb: plan.overlay });
    }
    const profiling = this.#querySet !== null;
    let pass: GPUComputePassEncoder | null = null;
    for (let i = 0; i < steps.length; i++) {
      const [name, group, [x, y, z]] = steps[i];
      if (profiling || pass === null) {
        const timestampWrites: GPUComputePassTimestampWrites | undefined = profiling
          ? {
            querySet: this.#querySet!,
            beginningOfPassWriteIndex: 2 * i,
            endOfPassWriteIndex: 2 * i + 1,
          }
          : undefined;
        pass = encoder.beginComputePass({ label: name, timestampWrites });
      }
      pass.setPipeline(this.#kernels[name]!.pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(x, y, z);
      if (profiling) {
        pass.end();
        pass = null;
      }
    }
    pass?.end();
    const staging = reads.map(([src, stage, bytes]) => {
      const dst = stage ??
        createBuffer(
          device,
          "fca readback",
          bytes,
          GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        );
      encoder.copyBufferToBuffer(src, 0, dst, 0, Math.ceil(bytes / 4) * 4);
      return dst;
    });
    if (profiling && steps.length > 0) {
      encoder.resolveQuerySet(this.#querySet!, 0, 2 * steps.length, this.#queryResolve!, 0);
      encoder.copyBufferToBuffer(this.#queryResolve!, 0, this.#queryRead!, 0, 16 * steps.length);
    }
    device.queue.submit([encoder.finish()]);
    try {
      const data = await readBack(staging, reads.map((r) => r[2]));
      if (profiling && steps.length > 0) {
        const [raw] = await readBack([this.#queryRead!], [16 * steps.length]);
        const ns = new BigInt64Array(raw);
        this.lastTimings = {};
        steps.forEach(([name], i) => {
          this.lastTimings[name] = Number(ns[2 * i + 1] - ns[2 * i]) / 1e6;
        });
      }
      return data;
    } finally {
      staging.forEach((b, i) => {
        if (reads[i][1] === null) b.destroy();
      });
    }
  }

  /** Write the `Dims` uniform, the σp/σs weights and the random tile's origin for `work`. */
  #writeUniforms(plan: Plan, work: Work, { params, range, alpha }: Uniforms): void {
    const queue = this.device.queue;
    const fca = work.stats === "fca";
    const dims = writeStruct(this.#layouts.dims, {
      channels: plan.channels,
      height: plan.height,
      width: plan.width,
      side: plan.patch,
      tilesX: plan.tilesX,
      tilesY: plan.tilesY,
      outHeight: plan.outHeight,
      outWidth: plan.outWidth,
      windowsPerGroup: windowsPerGroup(plan.patch),
      blur: fca && params.sigmaS > 0 ? 1 : 0, // sww: the σp weights alone
      fixedRange: range ? 1 : 0,
      count: plan.outHeight * plan.outWidth,
      lo: range?.lo ?? 0,
      hi: range?.hi ?? 0,
      alpha: alpha ?? 0,
    });
    queue.writeBuffer(plan.dims, 0, dims);
    if (work.stats === "fca" || work.stats === "sww") {
      const area = params.patch * params.patch;
      const weights = new Float32Array(area + BLUR_SIZE);
      weights.set(patchWeights(params.patch, params.sigmaP));
      if (fca && params.sigmaS > 0) weights.set(gaussian1d(BLUR_SIZE, params.sigmaS), area);
      queue.writeBuffer(this.#extra(plan, "weights"), 0, weights);
    }
    if (work.reference === "random") {
      const [y0, x0] = randomReferenceOrigin(plan.height, plan.width, plan.patch, work.seed);
      const origin = writeStruct(this.#layouts.tile, { y0, x0 });
      queue.writeBuffer(this.#extra(plan, "tile"), 0, origin);
    }
  }

  /** Plan for CPU features of patch `patch` (no upsampling), with the features uploaded later. */
  #planForFeatures(features: FeatureMap, patch: number): Plan {
    const { channels, height, width, data } = features;
    if (data.length !== channels * height * width) {
      throw new Error(`src/gpu/fca_gpu.ts: feature data length does not match C*H*W`);
    }
    return this.#planFor({ channels, height, width, patch, outHeight: 1, outWidth: 1 });
  }

  /** Copy CPU features into the plan's upload buffer and return it. */
  #upload(plan: Plan, features: FeatureMap): GPUBuffer {
    const upload = this.#extra(plan, "upload");
    this.device.queue.writeBuffer(upload, 0, new Float32Array(features.data));
    return upload;
  }

  /** The cached plan when `key` matches it, else a new one (the old one is destroyed). */
  #planFor(key: PlanKey): Plan {
    const old = this.#plan;
    if (
      old && old.channels === key.channels && old.height === key.height &&
      old.width === key.width && old.patch === key.patch && old.outHeight === key.outHeight &&
      old.outWidth === key.outWidth
    ) return old;
    this.#destroyPlan();
    this.#plan = this.#createPlan(key);
    return this.#plan;
  }

  #createPlan(key: PlanKey): Plan {
    const { channels: C, height: H, width: W, patch: T, outHeight: OH, outWidth: OW } = key;
    for (const [name, v] of Object.entries(key)) {
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(`src/gpu/fca_gpu.ts: ${name} must be a positive integer, got ${v}`);
      }
    }
    const pixels = H * W, count = OH * OW;
    this.#checkSize(key, Math.max(C * pixels, count) * 4);
    const d = this.device;
    const read = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    const uniform = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    const plan: Plan = {
      ...key,
      tilesY: Math.floor(H / T),
      tilesX: Math.floor(W / T),
      dims: createBuffer(d, "fca dims", this.#layouts.dims.size, uniform),
      scaled: createBuffer(d, "fca scaled", C * pixels * 4),
      featureMap: createBuffer(d, "fca feature map", pixels * 4),
      taps: createBuffer(d, "fca taps", (OH + OW) * 16),
      map: createBuffer(d, "fca map", count * 4),
      stats: createBuffer(d, "fca stats", 16),
      lut: createBuffer(d, "fca lut", 1024),
      rgba: createBuffer(d, "fca rgba", count * 4),
      overlay: createBuffer(d, "fca overlay", Math.ceil((3 * count) / 4) * 4),
      mapRead: createBuffer(d, "fca map read", count * 4, read),
      rgbaRead: createBuffer(d, "fca rgba read", count * 4, read),
      overlayRead: createBuffer(d, "fca overlay read", Math.ceil((3 * count) / 4) * 4, read),
      statsRead: createBuffer(d, "fca stats read", 16, read),
      featureMapRead: createBuffer(d, "fca feature map read", pixels * 4, read),
      extra: new Map(),
      groups: new Map(),
    };
    d.queue.writeBuffer(plan.taps, 0, packTaps(H, OH, W, OW));
    return plan;
  }

  /** Throw when one buffer of `bytes` exceeds the device's buffer or binding limits. */
  #checkSize(key: PlanKey, bytes: number): void {
    const limit = Math.min(
      this.device.limits.maxStorageBufferBindingSize,
      this.device.limits.maxBufferSize,
    );
    if (bytes > limit) {
      throw new Error(
        `src/gpu/fca_gpu.ts: a ${key.channels}x${key.height}x${key.width} feature map with ` +
          `patch ${key.patch} needs a ${bytes}-byte GPU buffer, over this device's ` +
          `${limit}-byte limit`,
      );
    }
  }

  /** The plan's buffer `name`, created (and for constant uniforms, written) on first use. */
  #extra(plan: Plan, name: Extra): GPUBuffer {
    const hit = plan.extra.get(name);
    if (hit) return hit;
    const { channels: C, height: H, width: W, patch: T } = plan;
    const area = T * T, pixels = H * W, d = this.device;
    const uniform = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    const bytes: Record<Extra, number> = {
      sorted: C * plan.tilesY * plan.tilesX * area * 4,
      reference: C * area * 4,
      weights: (area + BLUR_SIZE) * 4,
      contrib: pixels * area * 4,
      tile: 16,
      statsDims: 16,
      statsTaps: T * 4,
      bins: C * pixels * 4,
      binTop: 16,
      rep: C * MAX_BINS * 4,
      means: C * 16,
      upload: C * pixels * 4,
    };
    let buffer: GPUBuffer;
    if (name === "tile") {
      buffer = createBuffer(d, "fca tile origin", this.#layouts.tile.size, uniform);
    } else if (name === "statsDims") {
      const layout = this.#layouts.statsDims;
      buffer = createBuffer(d, "fca stats dims", layout.size, uniform);
      d.queue.writeBuffer(
        buffer,
        0,
        writeStruct(layout, {
          channels: C,
          height: H,
          width: W,
          side: T,
          bins: GPU_HIST_BINS,
          factor: Math.fround(0.999 * GPU_HIST_BINS), // as binIndices
        }),
      );
    } else {
      this.#checkSize(plan, bytes[name]);
      buffer = createBuffer(d, `fca ${name}`, bytes[name]);
      if (name === "statsTaps") {
        d.queue.writeBuffer(buffer, 0, new Float32Array(gaussian1d(T, GPU_STATS_SIGMA)));
      }
    }
    plan.extra.set(name, buffer);
    return buffer;
  }

  /** Kernel `kernel`'s bind group over `resources`, reused while they stay the same buffers. */
  #group<K extends KernelName>(plan: Plan, kernel: K, resources: Bindings<K>): GPUBindGroup {
    const cached = plan.groups.get(kernel);
    const res = resources as Record<string, BindingResource>;
    if (
      cached && Object.keys(res).length === Object.keys(cached.resources).length &&
      Object.entries(res).every(([name, r]) => cached.resources[name] === r)
    ) return cached.group;
    const group = createBindGroup(
      this.device,
      this.#kernels[kernel] as CompiledKernel<K>,
      resources,
    );
    plan.groups.set(kernel, { resources: { ...res }, group });
    return group;
  }

  #destroyPlan(): void {
    const p = this.#plan;
    if (!p) return;
    for (
      const b of [
        p.dims,
        p.scaled,
        p.featureMap,
        p.taps,
        p.map,
        p.stats,
        p.lut,
        p.rgba,
        p.overlay,
        p.mapRead,
        p.rgbaRead,
        p.overlayRead,
        p.statsRead,
        p.featureMapRead,
        ...p.extra.values(),
      ]
    ) b.destroy();
    this.#plan = null;
  }
}

/** True when the GPU runs `design` (fca or sww with median or random; hist, moments + median). */
export function isGpuDesign(
  design: { stats: string; reference: string; seed: number },
): design is GpuDesign {
  const stats = design.stats as GpuStatsKind, reference = design.reference as GpuReferenceKind;
  return GPU_STATS_KINDS.includes(stats) && GPU_REFERENCE_KINDS.includes(reference) &&
    (stats === "fca" || stats === "sww" || reference === "median");
}

/** Throw a one-line error unless the GPU runs `design` with `params`. */
export function checkDesign(design: GpuDesign, params: FcaParams): void {
  const { stats, reference, seed } = design;
  if (!GPU_STATS_KINDS.includes(stats)) {
    throw new Error(
      `src/gpu/fca_gpu.ts: the webgpu backend runs --stats ${GPU_STATS_KINDS.join(", ")}, ` +
        `got '${stats}': use --backend cpu`,
    );
  }
  if (!GPU_REFERENCE_KINDS.includes(reference)) {
    throw new Error(
      `src/gpu/fca_gpu.ts: the webgpu backend runs --reference ` +
        `${GPU_REFERENCE_KINDS.join(", ")}, got '${reference}': use --backend cpu`,
    );
  }
  if ((stats === "hist" || stats === "moments") && reference !== "median") {
    throw new Error(
      `--stats ${stats} compares with global statistics and does not take --reference ` +
        `${reference} (only fca and sww do)`,
    );
  }
  if (!Number.isFinite(seed)) throw new Error(`src/gpu/fca_gpu.ts: seed must be a number`);
  if (stats === "fca" || stats === "sww") checkParams(params);
  else validateParams(params);
}

function checkParams(params: FcaParams): void {
  validateParams(params);
  if (params.patch > MAX_GPU_PATCH) {
    throw new Error(
      `src/gpu/fca_gpu.ts: the webgpu backend supports --patch up to ${MAX_GPU_PATCH}, got ` +
        `${params.patch}: use --backend cpu`,
    );
  }
}

/** Throw if the scaling kernel flagged a non-finite feature (stats[2] = ~first bad channel). */
export function checkFinite(stats: Uint32Array): void {
  if (stats[2] !== 0) {
    throw new Error(
      `src/gpu/fca_gpu.ts: feature channel ${0xffffffff - stats[2]} contains NaN or Inf ` +
        `(bad model output)`,
    );
  }
}

/** [min, max] of the map from map_stats' order-preserving keys. */
function decodeRange(stats: Uint32Array): [number, number] {
  const fromKey = (key: number) => {
    const bits = (key & 0x80000000) !== 0 ? (key ^ 0x80000000) >>> 0 : ~key >>> 0;
    return new Float32Array(new Uint32Array([bits]).buffer)[0];
  };
  return [fromKey(~stats[1] >>> 0), fromKey(stats[0])];
}
