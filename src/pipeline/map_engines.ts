/**
 * The anomaly-map generators a {@link Detector} composes (the second of its three parts). On host
 * features: the exact fast FCA (`CpuFca`, worker threads), the readable CPU statistics of the
 * whole design space (`anomalyMapCpu`), and the WebGPU kernels fed from host memory (tiles of
 * the webgpu backend). Each can also say how it is tiled ({@link tileStatistic}).
 * @module
 */
import { type Design, untileableReason } from "../design.ts";
import type { CpuFca } from "../fca/fast/mod.ts";
import { fcaMapReference } from "../fca/rank_matching.ts";
import { anomalyMapCpu, histStatistic, momentsStatistic, swwMap } from "../fca/stats/mod.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../fca/types.ts";
import type { GpuDesign, GpuFca } from "../gpu/fca_gpu.ts";
import type { TileStatistic } from "./tiling/tiler.ts";

/** A map generator on host features (already min-max scaled when they are neural). */
export interface HostMapEngine {
  /** The stage name in timings (`fca`, `sww`, …). */
  readonly stage: string;
  /** Anomaly map at feature resolution. */
  featureMap(features: FeatureMap, params: FcaParams): Promise<ScalarMap>;
  /** Map of `fca`/`sww` against a given reference `[C, T·T]` (the tiled path). */
  mapWithReference?(
    features: FeatureMap,
    params: FcaParams,
    reference: Float32Array,
  ): Promise<ScalarMap>;
  /**
   * Applied once to the stitched map of the tiled path, when the engine's tiles leave out a final
   * step that reads across tile seams (qfca's σs blur of the map, docs/qfca.md).
   */
  finishTiled?(map: ScalarMap, params: FcaParams): ScalarMap;
  dispose(): void;
}

/** The exact fast FCA of the paper's default design (median reference). */
export function fastFcaEngine(fca: CpuFca): HostMapEngine {
  return {
    stage: "fca",
    featureMap: (features, params) => fca.fcaMap(features, params),
    mapWithReference: (features, params, reference) => fca.fcaMap(features, params, reference),
    dispose: () => fca.dispose(),
  };
}

/** Any point of the design space with the readable CPU implementations. */
export function cpuStatsEngine(design: Design): HostMapEngine {
  return {
    stage: design.stats,
    featureMap: (features, params) =>
      Promise.resolve(anomalyMapCpu(features, { ...design, params })),
    mapWithReference: (features, params, reference) =>
      Promise.resolve(
        design.stats === "sww"
          ? swwMap(features, reference, params.patch, params.sigmaP)
          : fcaMapReference(features, reference, params),
      ),
    dispose() {},
  };
}

/**
 * The WebGPU kernels on host features (one upload and one readback per call): the engine of the
 * webgpu backend's tiles. `hist` and `moments` tiles run on the CPU (see {@link tileStatistic}).
 */
export function gpuHostEngine(design: GpuDesign, fca: GpuFca): HostMapEngine {
  return {
    stage: design.stats,
    featureMap: (features, params) => fca.designMap(features, params, design),
    mapWithReference: (features, params, reference) =>
      fca.designMap(features, params, design, { reference }),
    dispose() {},
  };
}

/**
 * How `design` is computed over tiles with `engine`, or a one-line reason why it cannot be:
 * reference-based statistics against the whole map's reference, `hist` and `moments` in two passes
 * against the whole map's mean (on the CPU), k-NN references and aota not at all.
 */
export function tileStatistic(design: Design, engine: HostMapEngine): TileStatistic | string {
  const reason = untileableReason(design);
  if (reason) return reason;
  switch (design.stats) {
    case "hist":
      return {
        kind: "spatial-mean",
        make: (range, channels, params) => histStatistic(range, channels, params.patch),
      };
    case "moments":
      return {
        kind: "spatial-mean",
        make: (_range, channels, params) => momentsStatistic(channels, params.patch),
      };
    default: {
      const withReference = engine.mapWithReference;
      if (!withReference) return `--stats ${design.stats} cannot be tiled on this backend`;
      return {
        kind: "reference",
        reference: design.reference === "random" ? "random" : "median",
        seed: design.seed,
        engine: { fcaMap: (f, p, r) => withReference(f, p, r) },
      };
    }
  }
}
