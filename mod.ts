/**
 * fca: zero-shot texture anomaly localisation with Feature Correspondence Analysis
 * (Ardelean & Weyrich, WACV 2024) on WebGPU and on the CPU.
 *
 * As a program: `deno run -A mod.ts image.png` (see `--help`). As a library:
 *
 * ```ts
 * import { Detector, readImage } from "./mod.ts";
 * const detector = await Detector.create({ backend: "auto" });
 * const det = await detector.detect(await readImage("carpet.png"));
 * console.log(det.score);
 * await detector.dispose();
 * ```
 * @module
 */
export {
  type BackendChoice,
  type Detection,
  Detector,
  type DetectorOptions,
} from "./src/pipeline/detector.ts";
export { outputPaths, writeOutputs } from "./src/io/outputs.ts";
export { decodeImage, readImage } from "./src/io/decode.ts";
export type { RgbImage } from "./src/io/types.ts";
export type { FcaParams, FeatureMap, ScalarMap } from "./src/fca/types.ts";
export { DEFAULT_FCA_PARAMS } from "./src/fca/types.ts";
export { minMaxScale } from "./src/fca/scale.ts";
export { medianReference } from "./src/fca/median_reference.ts";
export { fcaMapReference } from "./src/fca/rank_matching.ts";
export { resizeBilinear } from "./src/fca/upsample.ts";
export { decodeNpy, encodeNpy, readNpy } from "./src/io/npy.ts";
export { main, VERSION } from "./src/cli/main.ts";

if (import.meta.main) {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
