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
import type { FcaParams, FeatureMap, ScalarMap } from "../fca/types.ts";
import type { HostMapEngine } from "./map_engines.ts";

/** What both QFCA implementations offer: a map, optionally against a quantized reference. */
type QfcaMapper = (
  features: FeatureMap,
  params: FcaParams,
  bins: number,
  reference?: Uint8Array,
) => Promise<ScalarMap>;

/** A {@link HostMapEngine} over the fast CPU QFCA with the design's bins. */
export function qfcaEngine(qfca: CpuQfca, design: Pick<Design, "bins">): HostMapEngine {
  return engineOf((f, p, b, r) => qfca.qfcaMap(f, p, b, r), () => qfca.dispose(), design);
}

/** The same engine on WebGPU (kernels/qfca_*.wgsl), the qfca engine of the webgpu backend. */
export function qfcaGpuEngine(qfca: GpuQfca, design: Pick<Design, "bins">): HostMapEngine {
  return engineOf((f, p, b, r) => qfca.map(f, p, b, r), () => qfca.dispose(), design);
}

function engineOf(
  map: QfcaMapper,
  dispose: () => void,
  design: Pick<Design, "bins">,
): HostMapEngine {
  const bins = design.bins ?? DEFAULT_QFCA_BINS;
  return {
    stage: "qfca",
    featureMap: (features, params) => map(features, params, bins),
    // Tiles leave out the σs blur of the map, which reads across their seams: it is applied once
    // to the stitched map (finishTiled).
    mapWithReference: (features, params, reference) =>
      map(
        features,
        { ...params, sigmaS: 0 },
        bins,
        Uint8Array.from(reference, (v) => quantizeValue(v, bins)),
      ),
    finishTiled,
    dispose,
  };
}

/** The σs blur of the stitched map (the step qfca's tiles leave out). */
function finishTiled(map: ScalarMap, params: FcaParams): ScalarMap {
  return params.sigmaS > 0 ? blurMap(map, params.sigmaS) : map;
}
