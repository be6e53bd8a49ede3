/**
 * Backbone descriptions: which tensor goes in, which comes out, its stride, channels and input
 * normalisation. Looked up for a model file from a sidecar JSON, the project's
 * models/manifest.json (by file name or sha256), or, failing both, the graph itself. A model
 * file on disk ({@link loadManifestFor}) and a model in memory ({@link describeModelBytes}, the
 * browser app) go through the same lookup; only the file has a sidecar.
 * @module
 */
import { baseName } from "../base/paths.ts";

import builtinJson from "../../models/manifest.json" with { type: "json" };
import { type GraphSignature, graphSignatureOf, readGraphSignature } from "./onnx_proto.ts";

/** Per-channel RGB normalisation applied before the backbone: `(x - mean) / std`, x in [0,1]. */
export interface Normalisation {
  /** Per-channel mean (R, G, B). */
  mean: [number, number, number];
  /** Per-channel standard deviation (R, G, B), all > 0. */
  std: [number, number, number];
}

/** ImageNet statistics (torchvision / Gluon convention). */
export const IMAGENET_NORMALISATION: Normalisation = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** Description of a backbone model (one models/manifest.json entry, or a sidecar file). */
export interface ModelManifest {
  /** Model file name (base name, e.g. "resnet50v2-stage2.onnx"). */
  file: string;
  /** Graph input name: a float tensor [N,3,H,W]. */
  input: string;
  /** Graph output name: the feature map [N,C,H/stride,W/stride]. */
  output: string;
  /** Spatial downsampling factor; undefined when `inferred` (measure it by running the model). */
  stride?: number;
  /** Feature channels; undefined when `inferred` (read them from the output). */
  channels?: number;
  /** Input normalisation. */
  normalisation: Normalisation;
  /** Where the weights come from. */
  source?: string;
  /** Licence of the weights. */
  licence?: string;
  /** Hex sha256 of the model file. */
  sha256?: string;
  /** True when nothing described the model: names come from its graph, ImageNet normalisation is
   * assumed, and stride/channels must be inferred at runtime. */
  inferred?: boolean;
  /** Where this description came from. */
  origin?: "sidecar" | "manifest" | "graph";
  /** Every output of the graph (set by {@link loadManifestFor}). */
  outputs?: string[];
}

/** Choices of {@link loadManifestFor}. */
export interface ManifestLookup {
  /** Use this graph output (overrides the entry's; required for several outputs and no entry). */
  output?: string;
}

/** The entries of the project's models/manifest.json, validated. */
export const BUILTIN_MANIFEST: readonly ModelManifest[] = parseManifestFile(
  builtinJson,
  "models/manifest.json",
);

/** Validate a manifest file's content (`{models: [...]}`) and return its entries. */
export function parseManifestFile(json: unknown, where: string): ModelManifest[] {
  const models = (json as { models?: unknown })?.models;
  if (!Array.isArray(models)) throw new Error(`${where}: expected {"models": [...]}`);
  return models.map((m, i) => parseManifestEntry(m, `${where} entry ${i}`));
}

/** Validate one manifest entry; throws a one-line error naming `where` and the bad field. */
export function parseManifestEntry(
  json: unknown,
  where: string,
  fileDefault?: string,
): ModelManifest {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`${where}: expected an object`);
  }
  const o = json as Record<string, unknown>;
  const str = (k: string, required: boolean): string | undefined => {
    const v = o[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v === "") throw new Error(`${where}: '${k}' must be a string`);
    return v;
  };
  const posInt = (k: string): number | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      throw new Error(`${where}: '${k}' must be a positive integer`);
    }
    return v;
  };
  const triple = (v: unknown, k: string, positive: boolean): [number, number, number] => {
    if (
      !Array.isArray(v) || v.length !== 3 ||
      !v.every((x) => typeof x === "number" && Number.isFinite(x) && (!positive || x > 0))
    ) {
      throw new Error(
        `${where}: 'normalisation.${k}' must be 3 ${positive ? "positive " : ""}numbers`,
      );
    }
    return [v[0], v[1], v[2]];
  };
  const norm = o.normalisation as Record<string, unknown> | undefined;
  if (typeof norm !== "object" || norm === null) {
    throw new Error(`${where}: 'normalisation' {mean, std} is required`);
  }
  const sha = str("sha256", false);
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) {
    throw new Error(`${where}: 'sha256' must be 64 lower-case hex digits`);
  }
  const entry: ModelManifest = {
    file: fileDefault !== undefined ? str("file", false) ?? fileDefault : str("file", true)!,
    input: str("input", true)!,
    output: str("output", true)!,
    stride: posInt("stride"),
    channels: posInt("channels"),
    normalisation: { mean: triple(norm.mean, "mean", false), std: triple(norm.std, "std", true) },
    source: str("source", false),
    licence: str("licence", false),
    sha256: sha,
  };
  if (entry.stride === undefined || entry.channels === undefined) entry.inferred = true;
  return entry;
}

/** Hex sha256 of a file, streamed in chunks (constant memory for any model size). */
export async function sha256File(path: string): Promise<string> {
  // Loaded here, not at the top: this module also runs in a browser, which has no node:crypto.
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(1 << 20);
    while (true) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

/** Hex sha256 of bytes in memory (Web Crypto: Deno and browsers). */
export async function sha256Bytes(bytes: Uint8Array): Promise<string> {
  if (!globalThis.crypto?.subtle) {
    throw new Error(
      "sha256: Web Crypto is unavailable (a browser offers it to https and localhost only)",
    );
  }
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const cache = new Map<string, Promise<ModelManifest>>();

/**
 * Describe the model at `modelPath`: a sidecar `<model>.json` (or `<model minus .onnx>.json`)
 * next to it, else the models/manifest.json entry matching its file name or sha256, else its
 * graph's first input and output with ImageNet normalisation (`inferred: true`). The names are
 * checked against the graph. Cached per path (and file size/mtime).
 */
export async function loadManifestFor(
  modelPath: string,
  lookup: ManifestLookup = {},
): Promise<ModelManifest> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(modelPath);
  } catch {
    throw new Error(`model file ${modelPath} not found`);
  }
  const key = `${modelPath}\0${stat.size}\0${stat.mtime?.getTime()}\0${lookup.output ?? ""}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = describe(fileSource(modelPath), lookup.output);
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return structuredClone(await hit);
}

/** What the lookup needs of a model: its name, graph signature, sha256 and sidecar entry. */
interface ModelSource {
  /** Path or name, for messages. */
  path: string;
  /** Base name, matched against the manifest's `file`. */
  base: string;
  signature(): Promise<GraphSignature>;
  sha256(): Promise<string>;
  sidecar(): Promise<ModelManifest | undefined>;
}

/**
 * Describe a model held in memory (the browser app): the models/manifest.json entry matching
 * `name` (its file name) or its sha256, else `entry` when given (e.g. the serving origin's
 * description of its model), else its graph, exactly as {@link loadManifestFor} does for a file
 * (`entry` plays the part of the file's sidecar and wins over the manifest). `sha256` saves
 * hashing when the caller has it.
 */
export function describeModelBytes(
  bytes: Uint8Array,
  name: string,
  opts: ManifestLookup & { sha256?: string; entry?: ModelManifest } = {},
): Promise<ModelManifest> {
  let sha: Promise<string> | undefined;
  return describe({
    path: name,
    base: baseName(name),
    signature: () => graphSignatureOf(bytes, name),
    sha256: () => sha ??= opts.sha256 ? Promise.resolve(opts.sha256) : sha256Bytes(bytes),
    sidecar: () => Promise.resolve(opts.entry && { ...opts.entry, file: baseName(name) }),
  }, opts.output);
}

async function describe(src: ModelSource, output?: string): Promise<ModelManifest> {
  const path = src.path;
  const sig = await src.signature().catch((e) => {
    throw new Error(`model ${path}: cannot read ONNX graph: ${(e as Error).message}`);
  });
  const m = await entryFor(src, sig);
  const outputs = sig.outputs.map((v) => v.name);
  if (output !== undefined && output !== m.output) {
    // Another output than the entry describes: its stride and channels are measured at run time.
    Object.assign(m, { output, stride: undefined, channels: undefined, inferred: true });
  } else if (output === undefined && m.origin === "graph" && outputs.length > 1) {
    throw new Error(
      `model ${path} has ${outputs.length} outputs (${outputs.join(", ")}) and no manifest ` +
        `entry: choose one with --output NAME (library: output:) or a sidecar ${src.base}.json`,
    );
  }
  return { ...checked(path, sig, m), outputs };
}

/** A model file on disk as a {@link ModelSource}. */
function fileSource(path: string): ModelSource {
  const base = baseName(path);
  return {
    path,
    base,
    signature: () => readGraphSignature(path),
    sha256: () => sha256File(path),
    sidecar: () => readSidecar(path, base),
  };
}

async function entryFor(src: ModelSource, sig: GraphSignature): Promise<ModelManifest> {
  const base = src.base;
  const sidecar = await src.sidecar();
  if (sidecar) return { ...sidecar, origin: "sidecar" };
  const byName = BUILTIN_MANIFEST.find((m) => m.file === base);
  if (byName) return { ...byName, origin: "manifest" };
  if (BUILTIN_MANIFEST.some((m) => m.sha256)) {
    const sha = await src.sha256();
    const bySha = BUILTIN_MANIFEST.find((m) => m.sha256 === sha);
    if (bySha) return { ...bySha, origin: "manifest" };
  }
  const inputs = graphInputs(sig);
  if (inputs.length === 0 || sig.outputs.length === 0) {
    throw new Error(`model ${src.path}: graph has no inputs or no outputs`);
  }
  return {
    file: base,
    input: inputs[0],
    output: sig.outputs[0].name,
    normalisation: structuredClone(IMAGENET_NORMALISATION),
    inferred: true,
    origin: "graph",
  };
}

async function readSidecar(path: string, base: string): Promise<ModelManifest | undefined> {
  const candidates = [`${path}.json`];
  if (/\.onnx$/i.test(path)) candidates.push(path.replace(/\.onnx$/i, ".json"));
  for (const c of candidates) {
    let text: string;
    try {
      text = await Deno.readTextFile(c);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw new Error(`model ${path}: cannot read sidecar ${c}: ${(e as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`model ${path}: sidecar ${c} is not valid JSON: ${(e as Error).message}`);
    }
    const models = (json as { models?: unknown })?.models;
    if (Array.isArray(models)) {
      if (models.length !== 1) throw new Error(`model ${path}: sidecar ${c} must hold one entry`);
      json = models[0];
    }
    return parseManifestEntry(json, `model ${path}: sidecar ${c}`, base);
  }
  return undefined;
}

function checked(path: string, sig: GraphSignature, m: ModelManifest): ModelManifest {
  const inputs = graphInputs(sig);
  if (!inputs.includes(m.input)) {
    throw new Error(
      `model ${path}: input '${m.input}' not found in graph (inputs: ${inputs.join(", ")})`,
    );
  }
  const outputs = sig.outputs.map((v) => v.name);
  if (!outputs.includes(m.output)) {
    throw new Error(
      `model ${path}: output '${m.output}' not found in graph (outputs: ${outputs.join(", ")})`,
    );
  }
  return m;
}

/** Graph inputs that are real inputs (IR < 4 models also list their weights as inputs). */
function graphInputs(sig: GraphSignature): string[] {
  return sig.inputs.map((v) => v.name).filter((n) => !sig.initializerNames.has(n));
}
