/**
 * The feature extractors a {@link Detector} composes (the first of its three parts): the ONNX
 * backbone on the CPU (onnxruntime-node, or wasm), the ONNX backbone on WebGPU (features left on
 * the device), and the hand-crafted extractors (computed on the CPU; uploaded on webgpu).
 * @module
 */
import { baseName } from "../base/paths.ts";
import type { Design, HandcraftedKind, OptionNaming } from "../design.ts";
import type { BackboneSpec, HostFeatureExtractor } from "../features/backbone.ts";
import { createCpuBackbone } from "../features/backbone_cpu.ts";
import { type GpuFeatures, WebGpuBackbone } from "../features/backbone_webgpu.ts";
import { handcraftedFeatures } from "../features/handcrafted.ts";
import { describeModelBytes, loadManifestFor, type ModelManifest } from "../features/manifest.ts";
import {
  defaultModelLocations,
  ensureModelPath,
  resolveModelPathWith,
} from "../features/model_path.ts";
import { cutGraph } from "../features/onnx_cut.ts";
import { decodeModel, encodeModel } from "../features/onnx_proto.ts";
import { createBuffer } from "../gpu/buffers.ts";
import type { RgbImage } from "../io/types.ts";
import { hostFeatureExtractor } from "./tiling/gpu.ts";
import { cropFeatures } from "./tiling/fca.ts";
import { reflectPadImage } from "../fca/pad_image.ts";
import { GpuCrop } from "../gpu/crop.ts";

/** A neural backbone read from disk: its manifest, bytes and the spec the runtimes need. */
export interface LoadedModel {
  manifest: ModelManifest;
  bytes: Uint8Array;
  spec: BackboneSpec;
  /** File name, for messages. */
  name: string;
}

/** True when `design` extracts features with a neural network (then they are min-max scaled). */
export function isNeural(design: Pick<Design, "features">): boolean {
  return design.features === "onnx" || design.features === "vgg";
}

/** Read the model file of a neural design (`onnx`: `model`, else the default search; `vgg`). */
export async function loadModel(
  design: Design,
  model?: string,
  output?: string,
  naming: OptionNaming = "flag",
): Promise<LoadedModel> {
  const optionName = naming === "flag" ? "--model" : "model:";
  const path = design.features === "vgg"
    ? resolveVggPath(model, optionName)
    : await ensureModelPath(model, { optionName });
  const manifest = await loadManifestFor(path, { output });
  return loadedModel(manifest, await Deno.readFile(path), baseName(path));
}

/** A model held in memory (the browser app): what {@link loadModel} gives for a file. */
export interface ModelBytes {
  /** The ONNX file's contents. */
  bytes: Uint8Array;
  /** Its file name (matched against models/manifest.json; named in messages). */
  name: string;
  /** Its sha256 when known (saves hashing). */
  sha256?: string;
  /** A description from elsewhere (e.g. the serving origin), as a file's sidecar would give. */
  entry?: ModelManifest;
}

/** {@link loadModel} for a model already in memory: no file is read. */
export async function modelFromBytes(model: ModelBytes, output?: string): Promise<LoadedModel> {
  const manifest = await describeModelBytes(model.bytes, model.name, {
    output,
    sha256: model.sha256,
    entry: model.entry,
  });
  return loadedModel(manifest, model.bytes, baseName(model.name));
}

/** The model ready for the runtimes: cut to the one output in use when it has several. */
function loadedModel(manifest: ModelManifest, bytes: Uint8Array, name: string): LoadedModel {
  // A model with several outputs: keep only the nodes the one in use needs (ORT computes every
  // node of a graph whatever the fetches; a multi-scale ResNet ran 2x slower uncut).
  if ((manifest.outputs?.length ?? 1) > 1) {
    bytes = encodeModel(cutGraph(decodeModel(bytes), { outputs: [manifest.output] }));
  }
  return {
    manifest,
    bytes,
    name,
    spec: {
      input: manifest.input,
      output: manifest.output,
      mean: manifest.normalisation.mean,
      std: manifest.normalisation.std,
    },
  };
}

/** Features into host memory: the ONNX model on the CPU, or a hand-crafted extractor. */
export async function hostSource(
  design: Design,
  model: LoadedModel | undefined,
  threads?: number,
): Promise<HostFeatureExtractor> {
  if (!model) return handcraftedSource(design.features as HandcraftedKind, design.seed);
  return await createCpuBackbone(model.bytes, model.spec, { threads, modelName: model.name });
}

/**
 * Feature cells `--pad` crops off each side: `pad / stride`. Throws one line unless the padding
 * is a whole number of cells (then the cropped map has exactly the unpadded image's size).
 */
export function padCells(pad: number, stride: number): number {
  if (pad % stride !== 0) {
    throw new Error(`--pad must be a multiple of the backbone's stride ${stride}, got ${pad}`);
  }
  return pad / stride;
}

/**
 * `source` on the image reflect-padded by `pad` pixels, with the padded border cropped off the
 * features (see src/fca/pad_image.ts): a map of the usual size without zero-padding artefacts.
 */
export function paddedHostSource(
  source: HostFeatureExtractor,
  pad: number,
  stride: number,
): HostFeatureExtractor {
  const c = padCells(pad, stride);
  if (c === 0) return source;
  return {
    runtime: source.runtime,
    async extract(image) {
      const f = await source.extract(reflectPadImage(image, pad));
      return cropFeatures(f, c, f.height - c, c, f.width - c);
    },
    dispose: () => source.dispose(),
  };
}

/** `source` on reflect-padded images with the border cropped on the device (`--pad`). */
export async function paddedDeviceSource(
  device: GPUDevice,
  source: DeviceSource,
  pad: number,
  stride: number,
): Promise<DeviceSource> {
  const c = padCells(pad, stride);
  if (c === 0) return source;
  const crop = await GpuCrop.create(device);
  return {
    runtime: source.runtime,
    host: paddedHostSource(source.host, pad, stride),
    async run(image) {
      const padded = await source.run(reflectPadImage(image, pad));
      return { ...padded, ...crop.crop(padded, c) };
    },
    async dispose() {
      crop.dispose();
      await source.dispose();
    },
  };
}

/**
 * Features on a GPU device: the ONNX model on onnxruntime-web's WebGPU execution provider, or a
 * hand-crafted extractor whose features are uploaded. `host` reads them back (for tiling).
 */
export interface DeviceSource {
  readonly runtime: string;
  /** Features of one image on the device; release them once the last reader is submitted. */
  run(image: RgbImage): Promise<GpuFeatures>;
  /** The same features in host memory (one readback), for the tiled path. */
  readonly host: HostFeatureExtractor;
  dispose(): Promise<void>;
}

/**
 * The device source of `design` on `device`. With `sync`, each backbone stage waits for the GPU,
 * so its time is the GPU's (else the backbone's work is counted by whichever stage waits next).
 */
export async function deviceSource(
  device: GPUDevice,
  design: Design,
  model: LoadedModel | undefined,
  opts: { sync?: boolean } = {},
): Promise<DeviceSource> {
  if (model) {
    const backbone = await WebGpuBackbone.create(device, model.bytes, model.spec);
    return {
      runtime: "onnxruntime-web/webgpu",
      run: (image) => backbone.run(image, { sync: opts.sync }),
      host: hostFeatureExtractor(backbone),
      dispose: () => backbone.dispose(),
    };
  }
  const host = handcraftedSource(design.features as HandcraftedKind, design.seed);
  let buffer: GPUBuffer | null = null;
  return {
    runtime: host.runtime,
    host,
    async run(image) {
      const t = performance.now();
      const f = await host.extract(image);
      const bytes = f.data.byteLength;
      if (!buffer || buffer.size < bytes) {
        buffer?.destroy();
        buffer = createBuffer(device, "hand-crafted features", bytes);
      }
      device.queue.writeBuffer(buffer, 0, f.data as Float32Array<ArrayBuffer>);
      return {
        features: buffer,
        channels: f.channels,
        height: f.height,
        width: f.width,
        image: buffer, // not an image: the caller only blends overlays over neural inputs
        release() {},
        timings: { features: performance.now() - t },
      };
    },
    dispose() {
      buffer?.destroy();
      return Promise.resolve();
    },
  };
}

/** A hand-crafted extractor as a host feature source. */
function handcraftedSource(kind: HandcraftedKind, seed: number): HostFeatureExtractor {
  return {
    runtime: `hand-crafted ${kind} features`,
    extract: (image) => Promise.resolve(handcraftedFeatures(kind, image, seed)),
    dispose: () => Promise.resolve(),
  };
}

/**
 * `--features vgg`: `--model`, then `$FCA_VGG_MODEL`, then `vgg19norm-conv1_2.onnx` in the
 * project's `models/`, then in `<shared>/models/` (the same search as the default backbone).
 */
export function resolveVggPath(option?: string, optionName = "--model"): string {
  let env: string | undefined;
  try {
    env = Deno.env.get("FCA_VGG_MODEL") || undefined;
  } catch {
    env = undefined;
  }
  const defaults = defaultModelLocations("vgg19norm-conv1_2.onnx");
  try {
    return resolveModelPathWith({ option, env, envName: "FCA_VGG_MODEL", defaults, optionName });
  } catch (e) {
    if (option || env) throw e;
    throw new Error(
      `VGG model not found (looked in ${
        defaults.join(", ")
      }): pass --model PATH or set FCA_VGG_MODEL`,
    );
  }
}
