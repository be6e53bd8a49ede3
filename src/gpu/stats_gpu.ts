/**
 * The light design-space statistics on WebGPU (paper Sec. 3.2; CPU specification: `sww`, `hist`
 * and `moments` in src/fca/stats/): each map is one command encoder and one submission.
 *
 * - `sww`: kernels/rank_matching.wgsl (the FCA kernel: stable ranks, zero shortcut) with the σp
 *   weights and no blur, then kernels/stats_sww_sum.wgsl sums each window's weighted errors.
 * - `hist`: kernels/stats_hist_bins.wgsl (re-scale, bin), stats_hist_mean.wgsl (spatial mean
 *   histogram), stats_hist_emd.wgsl (EMD per pixel); 10 bins, T-tap Gaussian of σ 6.
 * - `moments`: kernels/stats_moments_mean.wgsl (spatial mean of the local moments 1..4) and
 *   stats_moments_map.wgsl (mean squared difference per pixel); T-tap Gaussian of σ 6.
 *
 * The local histograms and moments are recomputed by the mean and per-pixel kernels instead of
 * being stored (C·bins·H·W values would not fit large maps). Pipelines are compiled once per
 * device; the buffers of one problem size are reused while the size stays the same.
 * @module
 */
import { BLUR_SIZE, gaussian1d, patchWeights, validateParams } from "../fca/params.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../fca/types.ts";
import { createBuffer, grid2d, readBack } from "./buffers.ts";
import { MAX_GPU_PATCH, windowsPerGroup } from "./fca_gpu.ts";
import { loadKernel } from "./kernel_source.ts";

/** Statistics {@link GpuStats.map} computes. */
export type GpuStatsKind = "sww" | "hist" | "moments";

/** Options of {@link GpuStats.map}. */
export interface GpuStatsOptions {
  /** Patch statistics comparison. */
  stats: GpuStatsKind;
  /** T (window side for sww, blur taps for hist and moments) and σp (sww's weights). */
  params: FcaParams;
  /** sww only: the reference [C, T*T] (median or random tile, sorted per channel). */
  reference?: Float32Array;
}

/** Bins of the histogram statistic (the reference code's default). */
export const GPU_HIST_BINS = 10;
/** σ of the T-tap Gaussian that forms local histograms and moments (reference default). */
export const GPU_STATS_SIGMA = 6;

const KERNELS = [
  "rank_matching",
  "stats_sww_sum",
  "stats_hist_bins",
  "stats_hist_mean",
  "stats_hist_emd",
  "stats_moments_mean",
  "stats_moments_map",
] as const;
type Kernel = typeof KERNELS[number];

/** Bytes of rank_matching's `Dims` uniform (16 × 32-bit fields). */
const FCA_DIMS_BYTES = 64;
/** Bytes of the `StatsDims` uniform of the stats_* kernels (8 × 32-bit fields). */
const STATS_DIMS_BYTES = 32;
/** Histogram capacity of the hist kernels (MAX_BINS in kernels/stats_hist_*.wgsl). */
const MAX_BINS = 16;

/** Buffers of one problem size; the statistic-specific ones are created on first use. */
interface Plan {
  channels: number;
  height: number;
  width: number;
  patch: number;
  fcaDims: GPUBuffer;
  dims: GPUBuffer;
  features: GPUBuffer;
  taps: GPUBuffer;
  out: GPUBuffer;
  outRead: GPUBuffer;
  extra: Map<string, GPUBuffer>;
  groups: Partial<Record<Kernel, GPUBindGroup>>;
}

/** The WebGPU sww, hist and moments statistics on one device. */
export class GpuStats {
  #plan: Plan | null = null;
  /** Tail of the chain that runs calls one at a time (they share the plan's buffers). */
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly device: GPUDevice,
    private readonly pipelines: Record<Kernel, GPUComputePipeline>,
  ) {}

  /** Compile the statistics pipelines for `device` (once; reuse the instance for all images). */
  static async create(device: GPUDevice): Promise<GpuStats> {
    const pipelines = {} as Record<Kernel, GPUComputePipeline>;
    device.pushErrorScope("validation");
    const compiled = Promise.all(KERNELS.map(async (name) => {
      const module = device.createShaderModule({ label: name, code: await loadKernel(name) });
      const bad = (await module.getCompilationInfo()).messages.find((m) => m.type === "error");
      if (bad) {
        const line = bad.message.trim().split("\n")[0];
        throw new Error(`src/gpu/stats_gpu.ts: kernels/${name}.wgsl does not compile: ${line}`);
      }
      pipelines[name] = await device.createComputePipelineAsync({
        label: name,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
    }));
    const failure = await compiled.then(() => null, (e: Error) => e);
    const error = await device.popErrorScope(); // popped even when compilation failed
    if (failure) throw failure;
    if (error) {
      throw new Error(`src/gpu/stats_gpu.ts: WGSL pipeline creation failed: ${error.message}`);
    }
    return new GpuStats(device, pipelines);
  }

  /**
   * Anomaly map at feature resolution of min-max-scaled `features` for stats sww, hist or
   * moments; equals anomalyMapCpu (stable tie order for sww) to about 1e-6 of the map's range.
   * sww needs `reference` [C, T*T] (median or random reference, computed by the caller).
   */
  map(features: FeatureMap, opts: GpuStatsOptions): Promise<ScalarMap> {
    return this.#serial(() => this.#mapNow(features, opts));
  }

  /** Destroy every buffer this instance created (the device itself is the caller's). */
  dispose(): void {
    this.#destroyPlan();
  }

  async #mapNow(features: FeatureMap, opts: GpuStatsOptions): Promise<ScalarMap> {
    const { params, stats } = opts;
    validateParams(params);
    const { channels: C, height: H, width: W } = features;
    if (features.data.length !== C * H * W) {
      throw new Error(`src/gpu/stats_gpu.ts: feature data length does not match C*H*W`);
    }
    const T = params.patch;
    const plan = this.#planFor(C, H, W, T);
    const device = this.device;
    device.queue.writeBuffer(plan.features, 0, new Float32Array(features.data));
    const n = H * W;
    const pixelGrid: [number, number, number] = [...grid2d(Math.ceil(n / 64)), 1];
    const steps: [Kernel, GPUBindGroup, [number, number, number]][] = [];
    const encoder = device.createCommandEncoder({ label: `stats ${stats}` });
    if (stats === "sww") {
      const ref = opts.reference;
      if (!ref) throw new Error(`src/gpu/stats_gpu.ts: stats sww needs a reference [C, T*T]`);
      if (ref.length !== C * T * T) {
        throw new Error(
          `src/gpu/stats_gpu.ts: reference has ${ref.length} values, expected ${C}x${T * T}`,
        );
      }
      if (T > MAX_GPU_PATCH) {
        throw new Error(
          `src/gpu/stats_gpu.ts: the webgpu backend supports --patch up to ${MAX_GPU_PATCH} ` +
            `for sww, got ${T}: use --backend cpu`,
        );
      }
      const reference = this.#extra(plan, "reference", C * T * T * 4);
      const weights = this.#extra(plan, "weights", (T * T + BLUR_SIZE) * 4);
      const contrib = this.#extra(plan, "contrib", n * T * T * 4);
      device.queue.writeBuffer(reference, 0, new Float32Array(ref));
      const w = new Float32Array(T * T + BLUR_SIZE); // blur taps unused: the blur is off
      w.set(patchWeights(T, params.sigmaP));
      device.queue.writeBuffer(weights, 0, w);
      steps.push(
        [
          "rank_matching",
          this.#group(plan, "rank_matching", [
            plan.fcaDims,
            plan.features,
            reference,
            weights,
            contrib,
          ]),
          [...grid2d(Math.ceil(n / windowsPerGroup(T))), 1],
        ],
        ["stats_sww_sum", this.#group(plan, "stats_sww_sum", [plan.dims, contrib, plan.out]), [
          ...pixelGrid,
        ]],
      );
    } else if (stats === "hist") {
      const bins = this.#extra(plan, "bins", C * n * 4);
      const top = this.#extra(plan, "binTop", 16);
      const rep = this.#extra(plan, "rep", C * MAX_BINS * 4);
      encoder.clearBuffer(top);
      steps.push(
        [
          "stats_hist_bins",
          this.#group(plan, "stats_hist_bins", [plan.dims, plan.features, bins, top]),
          [C, 1, 1],
        ],
        [
          "stats_hist_mean",
          this.#group(plan, "stats_hist_mean", [plan.dims, bins, plan.taps, rep]),
          [C, 1, 1],
        ],
        [
          "stats_hist_emd",
          this.#group(plan, "stats_hist_emd", [plan.dims, bins, plan.taps, rep, top, plan.out]),
          pixelGrid,
        ],
      );
    } else if (stats === "moments") {
      const means = this.#extra(plan, "means", C * 16);
      steps.push(
        [
          "stats_moments_mean",
          this.#group(plan, "stats_moments_mean", [plan.dims, plan.features, plan.taps, means]),
          [C, 1, 1],
        ],
        [
          "stats_moments_map",
          this.#group(plan, "stats_moments_map", [
            plan.dims,
            plan.features,
            plan.taps,
            means,
            plan.out,
          ]),
          pixelGrid,
        ],
      );
    } else {
      throw new Error(
        `src/gpu/stats_gpu.ts: stats must be sww, hist or moments, got '${stats as string}'`,
      );
    }
    const pass = encoder.beginComputePass({ label: `stats ${stats}` });
    for (const [name, group, [x, y, z]] of steps) {
      pass.setPipeline(this.pipelines[name]);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(x, y, z);
    }
    pass.end();
    encoder.copyBufferToBuffer(plan.out, 0, plan.outRead, 0, n * 4);
    device.queue.submit([encoder.finish()]);
    const [out] = await readBack([plan.outRead], [n * 4]);
    return { height: H, width: W, data: new Float32Array(out) };
  }

  /** Run `task` after every earlier call has settled. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => {});
    return result;
  }

  /** The cached plan when the size matches, else a new one (the old one is destroyed). */
  #planFor(channels: number, height: number, width: number, patch: number): Plan {
    const old = this.#plan;
    if (
      old && old.channels === channels && old.height === height && old.width === width &&
      old.patch === patch
    ) return old;
    this.#destroyPlan();
    this.#plan = this.#createPlan(channels, height, width, patch);
    return this.#plan;
  }

  #createPlan(C: number, H: number, W: number, T: number): Plan {
    for (const [name, v] of Object.entries({ channels: C, height: H, width: W })) {
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(`src/gpu/stats_gpu.ts: ${name} must be a positive integer, got ${v}`);
      }
    }
    const d = this.device;
    const n = H * W;
    const limit = Math.min(d.limits.maxStorageBufferBindingSize, d.limits.maxBufferSize);
    const largest = C * n * 4;
    if (largest > limit) {
      throw new Error(
        `src/gpu/stats_gpu.ts: a ${C}x${H}x${W} feature map needs a ${largest}-byte GPU buffer, ` +
          `over this device's ${limit}-byte limit`,
      );
    }
    const uniform = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    const plan: Plan = {
      channels: C,
      height: H,
      width: W,
      patch: T,
      fcaDims: createBuffer(d, "stats fca dims", FCA_DIMS_BYTES, uniform),
      dims: createBuffer(d, "stats dims", STATS_DIMS_BYTES, uniform),
      features: createBuffer(d, "stats features", C * n * 4),
      taps: createBuffer(d, "stats taps", T * 4),
      out: createBuffer(d, "stats map", n * 4),
      outRead: createBuffer(
        d,
        "stats map read",
        n * 4,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      ),
      extra: new Map(),
      groups: {},
    };
    // rank_matching's Dims: only channels, height, width, side, windowsPerGroup and blur are read.
    const fcaDims = new Uint32Array(FCA_DIMS_BYTES / 4);
    fcaDims.set([C, H, W, T, 0, 0, 0, 0, windowsPerGroup(T), 0, 0, 0]);
    d.queue.writeBuffer(plan.fcaDims, 0, fcaDims);
    const dims = new ArrayBuffer(STATS_DIMS_BYTES);
    new Uint32Array(dims).set([C, H, W, T, GPU_HIST_BINS]);
    new Float32Array(dims)[5] = Math.fround(0.999 * GPU_HIST_BINS); // as binIndices
    d.queue.writeBuffer(plan.dims, 0, dims);
    d.queue.writeBuffer(plan.taps, 0, new Float32Array(gaussian1d(T, GPU_STATS_SIGMA)));
    return plan;
  }

  /** The plan's storage buffer `name` of `bytes`, created on first use. */
  #extra(plan: Plan, name: string, bytes: number): GPUBuffer {
    let b = plan.extra.get(name);
    if (!b) {
      const limit = Math.min(
        this.device.limits.maxStorageBufferBindingSize,
        this.device.limits.maxBufferSize,
      );
      if (bytes > limit) {
        throw new Error(
          `src/gpu/stats_gpu.ts: the ${name} buffer of a ${plan.channels}x${plan.height}x` +
            `${plan.width} map with patch ${plan.patch} needs ${bytes} bytes, over this ` +
            `device's ${limit}-byte limit`,
        );
      }
      b = createBuffer(this.device, `stats ${name}`, bytes);
      plan.extra.set(name, b);
    }
    return b;
  }

  /** The plan's bind group of `kernel` over `buffers` (bindings 0..), built once per plan. */
  #group(plan: Plan, kernel: Kernel, buffers: GPUBuffer[]): GPUBindGroup {
    plan.groups[kernel] ??= this.device.createBindGroup({
      label: kernel,
      layout: this.pipelines[kernel].getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return plan.groups[kernel];
  }

  #destroyPlan(): void {
    const p = this.#plan;
    if (!p) return;
    for (const b of [p.fcaDims, p.dims, p.features, p.taps, p.out, p.outRead]) b.destroy();
    for (const b of p.extra.values()) b.destroy();
    this.#plan = null;
  }
}
