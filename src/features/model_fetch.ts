/**
 * Building the default backbone (the code behind `deno task model` and the download on first
 * use): download the ONNX model zoo's resnet50-v2-7 (or read a local copy), check its sha256,
 * cut it after the stage-3 pre-activation ReLU, name the tensors `input` / `features`, check it
 * with onnxruntime-node and save it atomically.
 * @module
 */
import { createHash } from "node:crypto";
import type * as ort from "../base/npm/onnxruntime_node.ts";
import { writeFileAtomic } from "../base/atomic.ts";
import { splitPath } from "../base/paths.ts";
import { mb, ProgressBar, type ProgressOptions } from "../base/progress.ts";
import { cutGraph } from "./onnx_cut.ts";
import { decodeModel, encodeModel, encodeTensorType, FLOAT, type OnnxModel } from "./onnx_proto.ts";

/** Where the ONNX model zoo keeps resnet50-v2-7. */
export const ZOO_URL =
  "https://github.com/onnx/models/raw/main/validated/vision/classification/resnet/model/resnet50-v2-7.onnx";

/** sha256 of the zoo's resnet50-v2-7.onnx (`model_sha` in the zoo's ONNX_HUB_MANIFEST.json). */
export const ZOO_SHA256 = "79102261eb6e5fd7af5d27f41316293e388c5cb691e5d25bfb035c4f64fefe31";

/** Size of the zoo's resnet50-v2-7.onnx in bytes (`model_bytes` in ONNX_HUB_MANIFEST.json). */
export const ZOO_BYTES = 102_442_452;

/** The zoo graph's ReLU after `resnetv24_stage3_batchnorm0_fwd` (stage 3's pre-activation). */
export const DEFAULT_TAP = "resnetv24_stage3_activation0";

/** The result of {@link prepareBackbone}. */
export interface PreparedBackbone {
  /** The cut model. */
  model: OnnxModel;
  /** The tensor it was cut at (its original name). */
  tap: string;
  /** The original name of the image input. */
  input: string;
}

/**
 * Cut a full classification model at `tap` and name the tensors `input` / `features`, with a
 * dynamic [n,3,h,w] input. Without an explicit tap, the default zoo tap is used, or if absent the
 * ReLU that follows a `stage3_batchnorm0` BatchNormalization.
 */
export function prepareBackbone(model: OnnxModel, tap?: string): PreparedBackbone {
  const g = model.graph!;
  const chosen = tap ?? findDefaultTap(model);
  const inits = new Set(g.initializer.map((t) => t.name));
  const inputs = g.input.filter((v) => !inits.has(v.name));
  if (inputs.length !== 1) {
    throw new Error(`expected one image input, found ${inputs.map((v) => v.name).join(", ")}`);
  }
  const input = inputs[0].name;
  const cut = cutGraph(model, {
    outputs: [chosen],
    rename: { [input]: "input", [chosen]: "features" },
  });
  const cg = cut.graph!;
  // Fixed 224x224 shapes and annotations would reject other sizes: make them dynamic.
  cg.input = cg.input.map((v) =>
    v.name === "input" ? { ...v, type: encodeTensorType(FLOAT, ["n", 3, "h", "w"]) } : v
  );
  cg.output = cg.output.map((v) => ({
    ...v,
    type: encodeTensorType(FLOAT, ["n", null, null, null]),
  }));
  cg.valueInfo = [];
  return { model: cut, tap: chosen, input };
}

function findDefaultTap(model: OnnxModel): string {
  const g = model.graph!;
  if (g.node.some((n) => n.output.includes(DEFAULT_TAP))) return DEFAULT_TAP;
  const bn = g.node.find((n) =>
    n.opType === "BatchNormalization" &&
    [n.name ?? "", ...n.output].some((s) => s.includes("stage3_batchnorm0"))
  );
  const relu = bn && g.node.find((n) => n.opType === "Relu" && n.input[0] === bn.output[0]);
  if (!relu) {
    throw new Error(
      `tap '${DEFAULT_TAP}' not in the model and no ReLU after a stage3_batchnorm0 node: pass --tap NAME`,
    );
  }
  return relu.output[0];
}

/** Run `bytes` (input `input`, output `features`) on a deterministic 1x3xSxS input. */
export async function runOnce(bytes: Uint8Array, size = 64): Promise<ort.Tensor> {
  const ort = await import("../base/npm/onnxruntime_node.ts");
  // Errors only: IR 3 models (the zoo's) list their weights as inputs, which ORT warns about.
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    const data = new Float32Array(3 * size * size);
    let s = 12345;
    for (let i = 0; i < data.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      data[i] = (s / 2 ** 32) * 4 - 2; // roughly the range of normalised RGB
    }
    const out = await session.run({ input: new ort.Tensor("float32", data, [1, 3, size, size]) });
    return out.features;
  } finally {
    await session.release();
  }
}

/** Largest absolute difference between two tensors' float data (Infinity if shapes differ). */
export function maxAbsDiff(a: ort.Tensor, b: ort.Tensor): number {
  if (a.dims.join() !== b.dims.join()) return Infinity;
  const x = a.data as Float32Array, y = b.data as Float32Array;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** How {@link download} reports. */
export interface DownloadOptions {
  /** Appended to every error (how to do without the download). */
  hint?: string;
  /** Progress bar options (default: stderr). */
  progress?: ProgressOptions;
}

/** Download `url` with a progress bar on stderr; a one-line error when it cannot. */
export async function download(url: string, opts: DownloadOptions = {}): Promise<Uint8Array> {
  const hint = opts.hint ?? "no internet? download it elsewhere and pass --from FILE, " +
      "or use an existing model with --model PATH / FCA_MODEL=PATH";
  const ctl = new AbortController();
  let timer = setTimeout(() => ctl.abort(new Error("no response within 30 s")), 30_000);
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: ctl.signal });
    } catch (e) {
      throw new Error(`cannot download ${url}: ${causeOf(e)} (${hint})`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`cannot download ${url}: HTTP ${res.status} ${res.statusText} (${hint})`);
    }
    const total = Number(res.headers.get("content-length")) || 0;
    const progress = new ProgressBar(total, {
      kind: "bytes",
      prefix: "download",
      lineEvery: 0.1,
      ...opts.progress,
    });
    const chunks: Uint8Array[] = [];
    let got = 0;
    const reader = res.body.getReader();
    try {
      while (true) {
        clearTimeout(timer);
        timer = setTimeout(() => ctl.abort(new Error("stalled for 60 s")), 60_000);
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        got += value.length;
        progress.update(got);
      }
    } catch (e) {
      throw new Error(`download of ${url} failed after ${got} bytes: ${causeOf(e)} (${hint})`);
    }
    progress.finish();
    if (total && got !== total) {
      throw new Error(`download of ${url} truncated: ${got} of ${total} bytes (${hint})`);
    }
    const out = new Uint8Array(got);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** The innermost cause of a fetch error, without the URL noise, on one line. */
function causeOf(e: unknown): string {
  let err = e as { message?: string; cause?: unknown };
  while (err?.cause && typeof err.cause === "object") err = err.cause as typeof err;
  const msg = String(err?.message ?? e);
  return msg.replace(/^error sending request for url \([^)]*\): /, "").replace(/\s+/g, " ");
}

/** What {@link buildModel} does. */
export interface BuildModelOptions {
  /** Where to save the cut model (its folder is created). */
  out: string;
  /** A local copy of the zoo model (no download). */
  from?: string;
  /** Where to download the zoo model (default {@link ZOO_URL}). */
  url?: string;
  /**
   * Expected sha256 of the zoo model; `null` skips the check. Default: {@link ZOO_SHA256} when
   * downloading from {@link ZOO_URL}, no check for `from` or another `url`.
   */
  sha256?: string | null;
  /** Tensor to cut at (default {@link DEFAULT_TAP}, or the ReLU after stage3_batchnorm0). */
  tap?: string;
  /** A model to compare the result with (max |diff| is logged), when it exists. */
  reference?: string;
  /** Status lines (default: stderr). */
  log?: (line: string) => void;
  /** Appended to download errors. */
  hint?: string;
  /** Progress bar options for the download. */
  progress?: ProgressOptions;
}

/** The result of {@link buildModel}. */
export interface BuiltModel {
  /** Where it was saved. */
  path: string;
  /** Hex sha256 of the saved model. */
  sha256: string;
  /** The tensor it was cut at. */
  tap: string;
}

/**
 * Build the default backbone: download (or read) the zoo model, check its sha256, cut it, check
 * the result on a 64×64 input with onnxruntime-node and save it atomically to `out`.
 */
export async function buildModel(opts: BuildModelOptions): Promise<BuiltModel> {
  const log = opts.log ?? ((line: string) => console.error(line));
  let zoo: Uint8Array;
  let source: string;
  if (opts.from) {
    source = opts.from;
    try {
      zoo = await Deno.readFile(opts.from);
    } catch (e) {
      throw new Error(`cannot read ${opts.from}: ${(e as Error).message}`);
    }
  } else {
    source = opts.url ?? ZOO_URL;
    log(`downloading ${source}`);
    zoo = await download(source, { hint: opts.hint, progress: opts.progress });
  }
  const expected = opts.sha256 !== undefined
    ? opts.sha256
    : !opts.from && source === ZOO_URL
    ? ZOO_SHA256
    : null;
  if (expected) {
    const got = sha256(zoo);
    if (got !== expected.toLowerCase()) {
      throw new Error(
        `${source}: sha256 ${got} is not the expected ${expected} (${mb(zoo.length)}; ` +
          `a changed or corrupted file: nothing was saved)`,
      );
    }
    log(`sha256 ${got} ok`);
  }
  const prepared = prepareBackbone(decodeModel(zoo), opts.tap);
  const bytes = encodeModel(prepared.model);
  log(
    `cut at '${prepared.tap}' (input '${prepared.input}' -> input, tap -> features): ` +
      `${prepared.model.graph!.node.length} nodes, ${mb(bytes.length)}`,
  );
  const features = await runOnce(bytes);
  log(`check: 1x3x64x64 -> [${features.dims.join(",")}]`);
  const usingDefault = opts.tap === undefined || opts.tap === DEFAULT_TAP;
  if (usingDefault && features.dims.join() !== "1,512,8,8") {
    throw new Error(`unexpected output shape [${features.dims.join(",")}], wanted [1,512,8,8]`);
  }
  if (usingDefault && opts.reference && isFile(opts.reference)) {
    const diff = maxAbsDiff(features, await runOnce(await Deno.readFile(opts.reference)));
    log(`max |diff| vs ${opts.reference}: ${diff.toExponential(2)}`);
  }
  const { dir } = splitPath(opts.out);
  if (dir) await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(opts.out, bytes);
  return { path: opts.out, sha256: sha256(bytes), tap: prepared.tap };
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
