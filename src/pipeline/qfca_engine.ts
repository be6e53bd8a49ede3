/**
 * The host map engine of `--stats qfca` (cpu backend, and the tiles of any backend): the fast CPU
 * QFCA on worker threads, whole maps against their quantized median reference, tiles against the
 * whole map's median reference (quantized; quantizing is monotonic, so it is the quantized median
 * reference and tiled maps equal untiled ones).
 * @module
 */
import { DEFAULT_QFCA_BINS, type Design } from "../design.ts";
import type { CpuQfca } from "../fca/fast/qfca.ts";
import type { GpuQfca } from "../gpu/qfca_gpu.ts";
import { blurMap, quantizeValue } from "../fca/qfca.ts";
import type { FcaParams, ScalarMap } from "../fca/types.ts";
import type { HostMapEngine } from "./map_engines.ts";

/** A {@link HostMapEngine} over `qfca` with the design's bins. */
export function qfcaEngine(qfca: CpuQfca, design: Pick<Design, "bins">): HostMapEngine {
  const bins = design.bins ?? DEFAULT_QFCA_BINS;
  return {
    stage: "qfca",
    featureMap: (features, params) => qfca.qfcaMap(features, params, bins),
    // Tiles leave out the σs blur of the map, which reads across their seams: it is applied once
    // to the stitched map (finishTiled).
    mapWithReference: (features, params, reference) =>
      qfca.qfcaMap(
        features,
        { ...params, sigmaS: 0 },
        bins,
        Uint8Array.from(reference, (v) => quantizeValue(v, bins)),
      ),
    finishTiled,
    dispose: () => qfca.dispose(),
  };
}

/** The same engine on WebGPU (kernels/qfca_*.wgsl), the qfca engine of the webgpu backend. */
export function qfcaGpuEngine(qfca: GpuQfca, design: Pick<Design, "bins">): HostMapEngine {
  const bins = design.bins ?? DEFAULT_QFCA_BINS;
  return {
    stage: "qfca",
    featureMap: (features, params) => qfca.map(features, params, bins),
    mapWithReference: (features, params, reference) =>
      qfca.map(
        features,
        { ...params, sigmaS: 0 },
        bins,
        Uint8Array.from(reference, (v) => quantizeValue(v, bins)),
      ),
    finishTiled,
    dispose: () => qfca.dispose(),
  };
}

/** The σs blur of the stitched map (the step qfca's tiles leave out). */
function finishTiled(map: ScalarMap, params: FcaParams): ScalarMap {
  return params.sigmaS > 0 ? blurMap(map, params.sigmaS) : map;
}
