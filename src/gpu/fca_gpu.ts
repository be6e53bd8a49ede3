/**
 * The FCA stages on WebGPU: min-max scaling (with a NaN/Inf check), median reference, windowed
 * rank matching with the σs blur and σp weights, overlap-add, bilinear upsampling, the score and
 * the colormap — all WGSL kernels in `kernels/`, recorded into one command encoder and submitted
 * once per image. The CPU modules in `src/fca/` are the specification these are tested against.
 *
 * Pipelines are compiled once per device ({@link GpuFca.create}); the buffers of one problem size
 * form a plan that is reused while the size stays the same and destroyed when it changes or on
 * {@link GpuFca.dispose}, so a stream of images does not leak.
 * @module
 */
import { tileCounts } from "../fca/median_reference.ts";
import { BLUR_SIZE, gaussian1d, patchWeights, validateParams } from "../fca/params.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../fca/types.ts";
import { bilinearTaps } from "../fca/upsample.ts";
import { createBuffer, grid2d, readBack } from "./buffers.ts";
import { loadKernel } from "./kernel_source.ts";

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
  /** Also read back the FCA map at feature resolution. */
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
  /** The FCA map at feature resolution (height×width), when `keepFeatureMap` was set. */
  featureMap?: Float32Array;
  /** The overlay as interleaved RGB8 (3 bytes per pixel), when `overlay` was given. */
  overlayRgb?: Uint8Array;
}

/** Options of {@link GpuFca.create}. */
export interface GpuFcaOptions {
  /**
   * Record every stage in its own compute pass with timestamp queries (when the device has
   * `timestamp-query`) and expose the GPU time per stage in {@link GpuFca.lastTimings}.
   */
  profile?: boolean;
}

/** Largest patch side the rank-matching kernel handles (T·T values per 256-invocation group). */
export const MAX_GPU_PATCH = 15;

const KERNELS = [
  "minmax_scale",
  "median_reference_rank",
  "median_reference_select",
  "rank_matching",
  "overlap_add",
  "upsample",
  "map_stats",
  "colormap",
  "overlay",
] as const;
type Kernel = typeof KERNELS[number];

/** Bytes of the `Dims` uniform shared by all FCA kernels (16 × 32-bit fields). */
const DIMS_BYTES = 64;
/** Byte offset of the overlay's `alpha` in `Dims` (field 14). */
const DIMS_ALPHA = 56;
/** Values reduced per map_stats workgroup (kernels/map_stats.wgsl CHUNK). */
const STATS_CHUNK = 4096;
/** Invocations per rank_matching workgroup (kernels/rank_matching.wgsl WG). */
const RANK_GROUP = 256;

/** Problem size that determines every buffer. */
interface PlanKey {
  channels: number;
  height: number;
  width: number;
  patch: number;
  outHeight: number;
  outWidth: number;
}

/** Buffers (and the bind groups that do not depend on the caller's input) for one size. */
interface Plan extends PlanKey {
  tilesY: number;
  tilesX: number;
  dims: GPUBuffer;
  scaled: GPUBuffer;
  sorted: GPUBuffer;
  reference: GPUBuffer;
  weights: GPUBuffer;
  contrib: GPUBuffer;
  featureMap: GPUBuffer;
  taps: GPUBuffer;
  map: GPUBuffer;
  stats: GPUBuffer;
  lut: GPUBuffer;
  rgba: GPUBuffer;
  /** Packed RGB8 overlay, `ceil(3 * count / 4)` words. */
  overlay: GPUBuffer;
  /** CPU features for the test-facing methods; created on first use. */
  upload: GPUBuffer | null;
  mapRead: GPUBuffer;
  rgbaRead: GPUBuffer;
  overlayRead: GPUBuffer;
  statsRead: GPUBuffer;
  featureMapRead: GPUBuffer;
  fixedGroups: Partial<Record<Kernel, GPUBindGroup>>;
  /** Bind groups that read the features, for the features buffer they were built for. */
  inputGroups: { source: GPUBuffer | null; groups: Partial<Record<Kernel, GPUBindGroup>> };
  /** The overlay's bind group, for the image buffer it was built for. */
  overlayGroup: { source: GPUBuffer | null; group: GPUBindGroup | null };
}

/** Which stages one submission records, and where the features come from. */
interface Work {
  features: GPUBuffer;
  scale: boolean;
  median: boolean;
  fca: boolean;
  upsample: boolean;
  colormap: boolean;
  /** The image to blend the heatmap over (needs `colormap`). */
  overlay: GPUBuffer;
}

/** The WebGPU FCA stages on one device. */
export class GpuFca {
  /** GPU milliseconds per stage of the last submission (profile mode with timestamp-query). */
  lastTimings: Record<string, number> = {};
  #plan: Plan | null = null;
  /** Tail of the chain that runs calls one at a time (they share the plan's buffers). */
  #tail: Promise<unknown> = Promise.resolve();
  #querySet: GPUQuerySet | null = null;
  #queryResolve: GPUBuffer | null = null;
  #queryRead: GPUBuffer | null = null;

  private constructor(
    readonly device: GPUDevice,
    private readonly pipelines: Record<Kernel, GPUComputePipeline>,
    private readonly layouts: Record<Kernel, GPUBindGroupLayout>,
    profile: boolean,
  ) {
    if (profile && device.features.has("timestamp-query")) {
      const count = 2 * KERNELS.length;
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

  /** Compile every FCA pipeline for `device` (once; reuse the instance for all images). */
  static async create(device: GPUDevice, options: GpuFcaOptions = {}): Promise<GpuFca> {
    const pipelines = {} as Record<Kernel, GPUComputePipeline>;
    const layouts = {} as Record<Kernel, GPUBindGroupLayout>;
    device.pushErrorScope("validation");
    const compiled = Promise.all(KERNELS.map(async (name) => {
      const module = device.createShaderModule({ label: name, code: await loadKernel(name) });
      const bad = (await module.getCompilationInfo()).messages.find((m) => m.type === "error");
      if (bad) {
        const line = bad.message.trim().split("\n")[0];
        throw new Error(`src/gpu/fca_gpu.ts: kernels/${name}.wgsl does not compile: ${line}`);
      }
      pipelines[name] = await device.createComputePipelineAsync({
        label: name,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      layouts[name] = pipelines[name].getBindGroupLayout(0);
    }));
    const failure = await compiled.then(() => null, (e: Error) => e);
    const error = await device.popErrorScope(); // popped even when compilation failed
    if (failure) throw failure;
    if (error) {
      throw new Error(`src/gpu/fca_gpu.ts: WGSL pipeline creation failed: ${error.message}`);
    }
    return new GpuFca(device, pipelines, layouts, options.profile ?? false);
  }

  async #runNow(
    input: GpuFcaInput,
    params: FcaParams,
    out: GpuFcaOutputSpec,
  ): Promise<GpuFcaOutput> {
    checkParams(params);
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
    this.#writeParams(plan, params, out.range);
    this.device.queue.writeBuffer(plan.lut, 0, new Uint8Array(out.colormapLut));
    const count = out.height * out.width;
    if (out.overlay) {
      if (out.overlay.image.size < 3 * count * 4) {
        throw new Error(
          `src/gpu/fca_gpu.ts: overlay image holds ${out.overlay.image.size} bytes, fewer than ` +
            `3x${out.height}x${out.width} f32 values`,
        );
      }
      this.device.queue.writeBuffer(plan.dims, DIMS_ALPHA, new Float32Array([out.overlay.alpha]));
    }
    const reads: [GPUBuffer, GPUBuffer, number][] = [
      [plan.map, plan.mapRead, count * 4],
      [plan.rgba, plan.rgbaRead, count * 4],
      [plan.stats, plan.statsRead, 16],
    ];
    const fmapAt = out.keepFeatureMap ? reads.length : -1;
    if (out.keepFeatureMap) reads.push([plan.featureMap, plan.featureMapRead, height * width * 4]);
    const overlayAt = out.overlay ? reads.length : -1;
    if (out.overlay) reads.push([plan.overlay, plan.overlayRead, 3 * count]);
    const data = await this.#execute(plan, {
      features: input.features,
      scale: !input.prescaled,
      median: true,
      fca: true,
      upsample: true,
      colormap: true,
      ...(out.overlay ? { overlay: out.overlay.image } : {}),
    }, reads);
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
    this.#writeParams(plan, { patch: 1, sigmaP: 1, sigmaS: 0 });
    const n = features.channels * features.height * features.width;
    const [scaled, stats] = await this.#execute(
      plan,
      { ...this.#upload(plan, features), scale: true },
      [[plan.scaled, null, n * 4], [plan.stats, plan.statsRead, 16]],
    );
    checkFinite(new Uint32Array(stats));
    return new Float32Array(scaled);
  }

  async #medianReferenceNow(features: FeatureMap, patch: number): Promise<Float32Array> {
    checkParams({ patch, sigmaP: 1, sigmaS: 0 });
    const plan = this.#planForFeatures(features, patch);
    this.#writeParams(plan, { patch, sigmaP: 1, sigmaS: 0 });
    const [ref] = await this.#execute(
      plan,
      { ...this.#upload(plan, features), median: true },
      [[plan.reference, null, features.channels * patch * patch * 4]],
    );
    return new Float32Array(ref);
  }

  async #fcaMapNow(
    features: FeatureMap,
    params: FcaParams,
    options: { scale?: boolean; reference?: Float32Array } = {},
  ): Promise<ScalarMap> {
    checkParams(params);
    const plan = this.#planForFeatures(features, params.patch);
    this.#writeParams(plan, params);
    if (options.reference) {
      if (options.reference.length !== features.channels * params.patch * params.patch) {
        throw new Error(`src/gpu/fca_gpu.ts: reference must hold C*T*T values`);
      }
      this.device.queue.writeBuffer(plan.reference, 0, new Float32Array(options.reference));
    }
    const n = features.height * features.width;
    const [map, stats] = await this.#execute(
      plan,
      {
        ...this.#upload(plan, features),
        scale: options.scale ?? false,
        median: !options.reference,
        fca: true,
      },
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
    this.#writeParams(plan, { patch: 1, sigmaP: 1, sigmaS: 0 });
    this.device.queue.writeBuffer(plan.featureMap, 0, new Float32Array(map.data));
    const [out] = await this.#execute(
      plan,
      {
        features: plan.scaled, // unused: no stage reads the features
        scale: false,
        median: false,
        fca: false,
        upsample: true,
        colormap: false,
      },
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
    this.#writeParams(plan, { patch: 1, sigmaP: 1, sigmaS: 0 }, range);
    this.device.queue.writeBuffer(plan.map, 0, new Float32Array(map.data));
    this.device.queue.writeBuffer(plan.lut, 0, new Uint8Array(lut));
    const n = map.height * map.width;
    const [rgba, stats] = await this.#execute(
      plan,
      {
        features: plan.scaled, // unused: no stage reads the features
        scale: false,
        median: false,
        fca: false,
        upsample: false,
        colormap: true,
      },
      [[plan.rgba, plan.rgbaRead, n * 4], [plan.stats, plan.statsRead, 16]],
    );
    const [lo, hi] = range ? [range.lo, range.hi] : decodeRange(new Uint32Array(stats));
    return { rgba: new Uint8Array(rgba), lo, hi };
  }

  /**
   * The whole FCA stage for one image: scaling (unless `input.prescaled`), median reference,
   * rank matching, overlap-add, upsampling to `out`'s size, score and colormap, in one
   * submission; only the final results are read back. Throws if the features hold NaN or Inf.
   */
  run(input: GpuFcaInput, params: FcaParams, out: GpuFcaOutputSpec): Promise<GpuFcaOutput> {
    return this.#serial(() => this.#runNow(input, params, out));
  }

  /** Min-max scaled copy of `features` (scaling kernel only); throws on NaN or Inf. */
  scale(features: FeatureMap): Promise<Float32Array> {
    return this.#serial(() => this.#scaleNow(features));
  }

  /** Median reference `[C, T*T]` of `features` as given (no scaling). */
  medianReference(features: FeatureMap, patch: number): Promise<Float32Array> {
    return this.#serial(() => this.#medianReferenceNow(features, patch));
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
    return this.#serial(() => this.#fcaMapNow(features, params, options));
  }

  /** Bilinear upsampling kernel alone (skimage order 1, mirrored borders). */
  upsample(map: ScalarMap, outHeight: number, outWidth: number): Promise<ScalarMap> {
    return this.#serial(() => this.#upsampleNow(map, outHeight, outWidth));
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
    return this.#serial(() => this.#colormapNow(map, lut, range));
  }

  /** Destroy every buffer this instance created (the device itself is the caller's). */
  dispose(): void {
    this.#destroyPlan();
    this.#querySet?.destroy();
    this.#queryResolve?.destroy();
    this.#queryRead?.destroy();
    this.#querySet = this.#queryResolve = this.#queryRead = null;
  }

  /** Run `task` after every earlier call has settled. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => {});
    return result;
  }

  /** Record the requested stages, submit once, and read back `reads` ([src, staging?, bytes]). */
  async #execute(
    plan: Plan,
    work: Partial<Work> & { features: GPUBuffer },
    reads: [GPUBuffer, GPUBuffer | null, number][],
  ): Promise<ArrayBuffer[]> {
    const device = this.device;
    const encoder = device.createCommandEncoder({ label: "fca" });
    encoder.clearBuffer(plan.stats);
    const readsInput = work.scale || work.median || work.fca;
    const groups = readsInput ? this.#inputGroups(plan, work.features) : {};
    const fixed = plan.fixedGroups;
    const fcaGroups = work.scale ? fixed : groups;
    const area = plan.patch * plan.patch;
    const tiles = plan.tilesY * plan.tilesX;
    const pixels = plan.height * plan.width;
    const count = plan.outHeight * plan.outWidth;
    const wpg = windowsPerGroup(plan.patch);
    const steps: [Kernel, GPUBindGroup, [number, number, number]][] = [];
    if (work.scale) steps.push(["minmax_scale", groups.minmax_scale!, [plan.channels, 1, 1]]);
    if (work.median) {
      steps.push([
        "median_reference_rank",
        fcaGroups.median_reference_rank!,
        [Math.ceil((tiles * area) / 64), plan.channels, 1],
      ]);
      steps.push([
        "median_reference_select",
        fixed.median_reference_select!,
        [Math.ceil(tiles / 64), area, plan.channels],
      ]);
    }
    if (work.fca) {
      steps.push([
        "rank_matching",
        fcaGroups.rank_matching!,
        [...grid2d(Math.ceil(pixels / wpg)), 1],
      ]);
      steps.push(["overlap_add", fixed.overlap_add!, [...grid2d(Math.ceil(pixels / 64)), 1]]);
    }
    if (work.upsample) {
      steps.push(["upsample", fixed.upsample!, [...grid2d(Math.ceil(count / 64)), 1]]);
    }
    if (work.colormap || work.upsample) {
      steps.push(["map_stats", fixed.map_stats!, [...grid2d(Math.ceil(count / STATS_CHUNK)), 1]]);
    }
    if (work.colormap) {
      steps.push(["colormap", fixed.colormap!, [...grid2d(Math.ceil(count / 64)), 1]]);
    }
    if (work.overlay) {
      const words = Math.ceil((3 * count) / 4);
      steps.push([
        "overlay",
        this.#overlayGroup(plan, work.overlay),
        [...grid2d(Math.ceil(words / 64)), 1],
      ]);
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
      pass.setPipeline(this.pipelines[name]);
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

  /** Write the `Dims` uniform and the σp/σs weights for `params`. */
  #writeParams(plan: Plan, params: FcaParams, range?: { lo: number; hi: number }): void {
    const dims = new ArrayBuffer(DIMS_BYTES);
    const u = new Uint32Array(dims), f = new Float32Array(dims);
    u.set([
      plan.channels,
      plan.height,
      plan.width,
      plan.patch,
      plan.tilesX,
      plan.tilesY,
      plan.outHeight,
      plan.outWidth,
      windowsPerGroup(plan.patch),
      params.sigmaS > 0 ? 1 : 0,
      range ? 1 : 0,
      plan.outHeight * plan.outWidth,
    ]);
    f[12] = range?.lo ?? 0;
    f[13] = range?.hi ?? 0;
    this.device.queue.writeBuffer(plan.dims, 0, dims);
    const area = params.patch * params.patch;
    const weights = new Float32Array(area + BLUR_SIZE);
    weights.set(patchWeights(params.patch, params.sigmaP));
    if (params.sigmaS > 0) weights.set(gaussian1d(BLUR_SIZE, params.sigmaS), area);
    this.device.queue.writeBuffer(plan.weights, 0, weights);
  }

  /** Plan for CPU features of patch `patch` (no upsampling), with the features uploaded later. */
  #planForFeatures(features: FeatureMap, patch: number): Plan {
    const { channels, height, width, data } = features;
    if (data.length !== channels * height * width) {
      throw new Error(`src/gpu/fca_gpu.ts: feature data length does not match C*H*W`);
    }
    return this.#planFor({ channels, height, width, patch, outHeight: 1, outWidth: 1 });
  }

  /** Copy CPU features into the plan's upload buffer; returns the work source. */
  #upload(plan: Plan, features: FeatureMap): { features: GPUBuffer } {
    plan.upload ??= createBuffer(this.device, "fca upload", features.data.byteLength);
    this.device.queue.writeBuffer(plan.upload, 0, new Float32Array(features.data));
    return { features: plan.upload };
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
    const [tilesY, tilesX] = tileCounts(H, W, T);
    const area = T * T, pixels = H * W, count = OH * OW;
    const limit = Math.min(
      this.device.limits.maxStorageBufferBindingSize,
      this.device.limits.maxBufferSize,
    );
    const largest = Math.max(C * pixels, pixels * area, count) * 4;
    if (largest > limit) {
      throw new Error(
        `src/gpu/fca_gpu.ts: a ${C}x${H}x${W} feature map with patch ${T} needs a ${largest}-byte ` +
          `GPU buffer, over this device's ${limit}-byte limit`,
      );
    }
    const d = this.device;
    const read = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    const plan: Plan = {
      ...key,
      tilesY,
      tilesX,
      dims: createBuffer(
        d,
        "fca dims",
        DIMS_BYTES,
        GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      ),
      scaled: createBuffer(d, "fca scaled", C * pixels * 4),
      sorted: createBuffer(d, "fca sorted tiles", C * tilesY * tilesX * area * 4),
      reference: createBuffer(d, "fca reference", C * area * 4),
      weights: createBuffer(d, "fca weights", (area + BLUR_SIZE) * 4),
      contrib: createBuffer(d, "fca contributions", pixels * area * 4),
      featureMap: createBuffer(d, "fca feature map", pixels * 4),
      taps: createBuffer(d, "fca taps", (OH + OW) * 16),
      map: createBuffer(d, "fca map", count * 4),
      stats: createBuffer(d, "fca stats", 16),
      lut: createBuffer(d, "fca lut", 1024),
      rgba: createBuffer(d, "fca rgba", count * 4),
      overlay: createBuffer(d, "fca overlay", Math.ceil((3 * count) / 4) * 4),
      upload: null,
      mapRead: createBuffer(d, "fca map read", count * 4, read),
      rgbaRead: createBuffer(d, "fca rgba read", count * 4, read),
      overlayRead: createBuffer(d, "fca overlay read", Math.ceil((3 * count) / 4) * 4, read),
      statsRead: createBuffer(d, "fca stats read", 16, read),
      featureMapRead: createBuffer(d, "fca feature map read", pixels * 4, read),
      fixedGroups: {},
      inputGroups: { source: null, groups: {} },
      overlayGroup: { source: null, group: null },
    };
    d.queue.writeBuffer(plan.taps, 0, packTaps(H, OH, W, OW));
    plan.fixedGroups = {
      ...this.#featureGroups(plan, plan.scaled, false),
      median_reference_select: this.#group("median_reference_select", [
        plan.dims,
        plan.sorted,
        plan.reference,
      ]),
      overlap_add: this.#group("overlap_add", [plan.dims, plan.contrib, plan.featureMap]),
      upsample: this.#group("upsample", [plan.dims, plan.featureMap, plan.taps, plan.map]),
      map_stats: this.#group("map_stats", [plan.dims, plan.map, plan.stats]),
      colormap: this.#group("colormap", [plan.dims, plan.map, plan.lut, plan.stats, plan.rgba]),
    };
    return plan;
  }

  /** Bind groups of the kernels that read `features` directly (scale source or FCA input). */
  #featureGroups(
    plan: Plan,
    features: GPUBuffer,
    withScale = true,
  ): Partial<Record<Kernel, GPUBindGroup>> {
    return {
      ...(withScale
        ? {
          minmax_scale: this.#group("minmax_scale", [plan.dims, features, plan.scaled, plan.stats]),
        }
        : {}),
      median_reference_rank: this.#group("median_reference_rank", [
        plan.dims,
        features,
        plan.sorted,
      ]),
      rank_matching: this.#group("rank_matching", [
        plan.dims,
        features,
        plan.reference,
        plan.weights,
        plan.contrib,
      ]),
    };
  }

  /** Input-dependent bind groups, rebuilt only when the caller's features buffer changes. */
  #inputGroups(plan: Plan, features: GPUBuffer): Partial<Record<Kernel, GPUBindGroup>> {
    if (plan.inputGroups.source !== features) {
      plan.inputGroups = { source: features, groups: this.#featureGroups(plan, features) };
    }
    return plan.inputGroups.groups;
  }

  /** The overlay's bind group, rebuilt only when the image buffer changes. */
  #overlayGroup(plan: Plan, image: GPUBuffer): GPUBindGroup {
    if (plan.overlayGroup.source !== image) {
      const group = this.#group("overlay", [plan.dims, plan.rgba, image, plan.overlay]);
      plan.overlayGroup = { source: image, group };
    }
    return plan.overlayGroup.group!;
  }

  #group(kernel: Kernel, buffers: GPUBuffer[]): GPUBindGroup {
    return this.device.createBindGroup({
      label: kernel,
      layout: this.layouts[kernel],
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  #destroyPlan(): void {
    const p = this.#plan;
    if (!p) return;
    for (
      const b of [
        p.dims,
        p.scaled,
        p.sorted,
        p.reference,
        p.weights,
        p.contrib,
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
      ]
    ) b.destroy();
    p.upload?.destroy();
    this.#plan = null;
  }
}

/** Invocation groups per rank_matching workgroup: whole windows of T·T values, at most 32. */
export function windowsPerGroup(patch: number): number {
  return Math.min(32, Math.floor(RANK_GROUP / (patch * patch)));
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
function checkFinite(stats: Uint32Array): void {
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

/** Row taps then column taps as the kernel's `Tap { i0, i1, w1, pad }` records. */
function packTaps(h: number, outH: number, w: number, outW: number): ArrayBuffer {
  const buf = new ArrayBuffer((outH + outW) * 16);
  const u = new Uint32Array(buf), f = new Float32Array(buf);
  let o = 0;
  for (const t of [bilinearTaps(h, outH), bilinearTaps(w, outW)]) {
    for (let i = 0; i < t.i0.length; i++, o++) {
      u[4 * o] = t.i0[i];
      u[4 * o + 1] = t.i1[i];
      f[4 * o + 2] = t.w1[i];
    }
  }
  return buf;
}
