/**
 * The backbone on the CPU: onnxruntime-node (native, about 2× faster here) when it loads, else
 * onnxruntime-web's multi-threaded wasm build.
 * @module
 */
import type { FeatureMap } from "../fca/types.ts";
import type { RgbImage } from "../io/types.ts";
import { type BackboneSpec, type HostFeatureExtractor, normalizeImage } from "./backbone.ts";

/** Which CPU runtime to use; "auto" tries onnxruntime-node first. */
export type CpuRuntime = "auto" | "node" | "wasm";

interface OrtLike {
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => unknown;
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<SessionLike>;
  };
}
interface SessionLike {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(
    feeds: Record<string, unknown>,
    fetches?: readonly string[],
  ): Promise<Record<string, TensorLike>>;
  release(): Promise<void>;
}
interface TensorLike {
  dims: readonly number[];
  data: unknown;
  dispose?: () => void;
}

/** Load an ONNX backbone for CPU inference; throws one line if the graph does not fit `spec`. */
export async function createCpuBackbone(
  modelBytes: Uint8Array,
  spec: BackboneSpec,
  opts: { runtime?: CpuRuntime; threads?: number; modelName?: string } = {},
): Promise<HostFeatureExtractor> {
  const threads = opts.threads ?? Math.min(navigator.hardwareConcurrency || 2, 8);
  const name = opts.modelName ?? "model";
  let ort: OrtLike | undefined, runtime = "";
  let session: SessionLike | undefined;
  const errors: string[] = [];
  if (opts.runtime !== "wasm") {
    try {
      ort = (await import("../base/npm/onnxruntime_node.ts")) as unknown as OrtLike;
      session = await ort.InferenceSession.create(modelBytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
      });
      runtime = "onnxruntime-node";
    } catch (err) {
      errors.push(`onnxruntime-node: ${firstLine(err)}`);
      if (opts.runtime === "node") throw new Error(`${name}: ${errors[0]}`);
    }
  }
  if (!session) {
    try {
      const web = await import("../base/npm/onnxruntime_web.ts");
      web.env.wasm.numThreads = threads;
      web.env.logLevel = "error";
      ort = web as unknown as OrtLike;
      session = await ort.InferenceSession.create(modelBytes, {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
      });
      runtime = "onnxruntime-web/wasm";
    } catch (err) {
      errors.push(`onnxruntime-web: ${firstLine(err)}`);
      throw new Error(`${name}: cannot load the model as ONNX (${errors.join("; ")})`);
    }
  }
  checkNames(session, spec, name);
  const s = session, Tensor = ort!.Tensor;
  return {
    runtime,
    async extract(image: RgbImage): Promise<FeatureMap> {
      const input = new Tensor("float32", normalizeImage(image, spec), [
        1,
        3,
        image.height,
        image.width,
      ]);
      const out = (await s.run({ [spec.input]: input }, [spec.output]))[spec.output];
      const dims = out.dims;
      if (dims.length !== 4 || dims[0] !== 1) {
        throw new Error(`${name}: output '${spec.output}' has shape [${dims}], expected [1,C,h,w]`);
      }
      if (!(out.data instanceof Float32Array)) {
        throw new Error(`${name}: output '${spec.output}' is not float32`);
      }
      const data = out.data as Float32Array<ArrayBuffer>;
      return { channels: dims[1], height: dims[2], width: dims[3], data };
    },
    async dispose() {
      await s.release();
    },
  };
}

function checkNames(session: SessionLike, spec: BackboneSpec, name: string): void {
  if (!session.inputNames.includes(spec.input)) {
    throw new Error(
      `${name}: input '${spec.input}' not found in the graph (inputs: ${
        session.inputNames.join(", ")
      })`,
    );
  }
  if (!session.outputNames.includes(spec.output)) {
    throw new Error(
      `${name}: output '${spec.output}' not found in the graph (outputs: ${
        session.outputNames.join(", ")
      })`,
    );
  }
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split("\n")[0];
}
