/**
 * The light design-space statistics on WebGPU for host features (paper Sec. 3.2; CPU
 * specification: `sww`, `hist` and `moments` in src/fca/stats/): each map is one command encoder
 * and one submission, recorded by {@link GpuFca} (which also runs them from GPU features in
 * {@link GpuFca.run} without any intermediate readback).
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
import type { FcaParams, FeatureMap, ScalarMap } from "../fca/types.ts";
import { GpuFca } from "./fca_gpu.ts";
import type { KernelName } from "./kernels.ts";

export { GPU_HIST_BINS, GPU_STATS_SIGMA } from "./fca_gpu.ts";

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

/** The kernels of the three statistics (compiled by {@link GpuStats.create}). */
const STATS_KERNELS = [
  "rank_matching",
  "stats_sww_sum",
  "stats_hist_bins",
  "stats_hist_mean",
  "stats_hist_emd",
  "stats_moments_mean",
  "stats_moments_map",
] as const satisfies readonly KernelName[];

/** The WebGPU sww, hist and moments statistics on one device, for host features. */
export class GpuStats {
  private constructor(private readonly fca: GpuFca) {}

  /** The device the maps run on. */
  get device(): GPUDevice {
    return this.fca.device;
  }

  /** Compile the statistics pipelines for `device` (once; reuse the instance for all images). */
  static async create(device: GPUDevice): Promise<GpuStats> {
    return new GpuStats(await GpuFca.create(device, { kernels: STATS_KERNELS }));
  }

  /**
   * Anomaly map at feature resolution of min-max-scaled `features` for stats sww, hist or
   * moments; equals anomalyMapCpu (stable tie order for sww) to about 1e-6 of the map's range.
   * sww needs `reference` [C, T*T] (median or random reference, computed by the caller).
   */
  map(features: FeatureMap, opts: GpuStatsOptions): Promise<ScalarMap> {
    const { params, stats } = opts;
    if (stats !== "sww" && stats !== "hist" && stats !== "moments") {
      return Promise.reject(
        new Error(
          `src/gpu/stats_gpu.ts: stats must be sww, hist or moments, got '${stats as string}'`,
        ),
      );
    }
    const ref = opts.reference;
    if (stats === "sww") {
      const { channels: C } = features, T = params.patch;
      if (!ref) {
        return Promise.reject(
          new Error(`src/gpu/stats_gpu.ts: stats sww needs a reference [C, T*T]`),
        );
      }
      if (ref.length !== C * T * T) {
        return Promise.reject(
          new Error(
            `src/gpu/stats_gpu.ts: reference has ${ref.length} values, expected ${C}x${T * T}`,
          ),
        );
      }
    }
    const design = { stats, reference: "median", seed: 0 } as const;
    return this.fca.designMap(features, params, design, stats === "sww" ? { reference: ref } : {});
  }

  /** Destroy every buffer this instance created (the device itself is the caller's). */
  dispose(): void {
    this.fca.dispose();
  }
}
