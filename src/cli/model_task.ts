/**
 * `deno task model`: build the default backbone. Downloads the ONNX model zoo's resnet50-v2-7
 * (or reads a local copy with --from), cuts it after the stage-3 pre-activation ReLU, names the
 * tensors `input` / `features`, checks it with onnxruntime-node and writes it atomically.
 * @module
 */

import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { writeFileAtomic } from "../base/atomic.ts";
import { cutGraph } from "../features/onnx_cut.ts";
import { defaultModelLocations } from "../features/model_path.ts";
import {
  decodeModel,
  encodeModel,
  encodeTensorType,
  FLOAT,
  type OnnxModel,
} from "../features/onnx_proto.ts";

/** Where the ONNX model zoo keeps resnet50-v2-7. */
export const ZOO_URL =
  "https://github.com/onnx/models/raw/main/validated/vision/classification/resnet/model/resnet50-v2-7.onnx";

/** The zoo graph's ReLU after `resnetv24_stage3_batchnorm0_fwd` (stage 3's pre-activation). */
export const DEFAULT_TAP = "resnetv24_stage3_activation0";

const USAGE = `deno task model [options]

Builds models/resnet50v2-stage2.onnx from the ONNX model zoo's resnet50-v2-7 (Apache-2.0).

  --url URL     where to download the zoo model (default: ${ZOO_URL})
  --from FILE   use a local copy of resnet50-v2-7.onnx instead of downloading
  --out FILE    output path (default: models/resnet50v2-stage2.onnx in the project)
  --tap NAME    tensor to cut at (default: ${DEFAULT_TAP})
  --help        show this help`;

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

/** Download `url` with a progress bar on stderr; one-line error when it cannot. */
export async function download(url: string): Promise<Uint8Array> {
  const hint = "no internet? download it elsewhere and pass --from FILE, " +
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
      throw new Error(`cannot download ${url}: HTTP ${res.status} ${res.statusText} (${hint})`);
    }
    const total = Number(res.headers.get("content-length")) || 0;
    const progress = new Progress(total);
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
    progress.finish(got);
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

/** Progress on stderr: a redrawn bar on a terminal, a line per 10 % otherwise. */
class Progress {
  private readonly tty = Deno.stderr.isTerminal();
  private readonly start = performance.now();
  private last = 0;
  private lastStep = -1;
  constructor(private readonly total: number) {}

  update(got: number): void {
    const now = performance.now();
    if (this.tty) {
      if (now - this.last < 100) return;
      this.last = now;
      this.write(`\r${this.line(got)}\x1b[K`);
    } else {
      const step = this.total
        ? Math.floor((got / this.total) * 10)
        : Math.floor((now - this.start) / 5000);
      if (step === this.lastStep) return;
      this.lastStep = step;
      this.write(`${this.line(got)}\n`);
    }
  }

  finish(got: number): void {
    this.write(this.tty ? `\r${this.line(got)}\x1b[K\n` : `${this.line(got)} done\n`);
  }

  private line(got: number): string {
    const secs = Math.max((performance.now() - this.start) / 1000, 1e-3);
    const rate = `${mb(got / secs)}/s`;
    if (!this.total) return `downloaded ${mb(got)} ${rate}`;
    const frac = Math.min(got / this.total, 1);
    const bar = this.tty ? `[${"#".repeat(Math.round(frac * 30)).padEnd(30, ".")}] ` : "";
    return `${bar}${mb(got)} / ${mb(this.total)} ${(frac * 100).toFixed(0)}% ${rate}`;
  }

  private write(s: string): void {
    Deno.stderr.writeSync(new TextEncoder().encode(s));
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Entry point; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: "string", default: ZOO_URL },
        from: { type: "string" },
        out: { type: "string" },
        tap: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`model: ${(e as Error).message} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const out = values.out ?? defaultModelLocations()[0];
  try {
    let zoo: Uint8Array;
    if (values.from) {
      try {
        zoo = await Deno.readFile(values.from);
      } catch (e) {
        throw new Error(`cannot read --from ${values.from}: ${(e as Error).message}`);
      }
    } else {
      console.error(`downloading ${values.url}`);
      zoo = await download(values.url!);
    }
    const prepared = prepareBackbone(decodeModel(zoo), values.tap);
    const bytes = encodeModel(prepared.model);
    console.error(
      `cut at '${prepared.tap}' (input '${prepared.input}' -> input, tap -> features): ` +
        `${prepared.model.graph!.node.length} nodes, ${mb(bytes.length)}`,
    );

    const features = await runOnce(bytes);
    console.error(`check: 1x3x64x64 -> [${features.dims.join(",")}]`);
    const usingDefault = values.tap === undefined || values.tap === DEFAULT_TAP;
    if (usingDefault && features.dims.join() !== "1,512,8,8") {
      throw new Error(`unexpected output shape [${features.dims.join(",")}], wanted [1,512,8,8]`);
    }
    const reference = `${Deno.env.get("FCA_SHARED") ?? "../shared"}/models/resnet50v2-stage2.onnx`;
    if (usingDefault && await exists(reference)) {
      const diff = maxAbsDiff(features, await runOnce(await Deno.readFile(reference)));
      console.error(`max |diff| vs ${reference}: ${diff.toExponential(2)}`);
    }

    await writeFileAtomic(out, bytes);
    const sha = createHash("sha256").update(bytes).digest("hex");
    console.log(`wrote ${out}`);
    console.log(`sha256 ${sha}`);
    return 0;
  } catch (e) {
    console.error(`model: ${(e as Error).message}`);
    return 1;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
