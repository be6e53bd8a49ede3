/**
 * `fca IMAGE... [options]`: localise anomalies in images and folders, write the outputs, print
 * one JSON line per image.
 * @module
 */
import { parseArgs } from "node:util";
import { Detector } from "../pipeline/detector.ts";
import { outputPaths, writeOutputs } from "../pipeline/outputs.ts";
import { readImage } from "../io/decode.ts";
import { expandInputs } from "./inputs.ts";
import { PIPELINE_FLAGS, PIPELINE_HELP, toDetectorOptions, UsageError } from "./options.ts";

/** Help text of the detect command. */
export const DETECT_HELP = `Usage: fca [detect] IMAGE|DIR... [options]
Writes <stem>.anomaly.png (heatmap), <stem>.overlay.png and <stem>.anomaly.npy (float32 map at
input size) beside each input or into --out, and prints one JSON line per image.

Options:
${PIPELINE_HELP}
  --out DIR          write outputs into DIR (created if missing)
  --help             show this help
  --version          show the version`;

/** Run the detect command; resolves to the process exit code. */
export async function runDetect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...PIPELINE_FLAGS, out: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError("no input images given (see --help)");
  const options = toDetectorOptions(values);
  const outDir = values.out;
  if (outDir !== undefined) await ensureWritableDir(outDir);

  const items = await expandInputs(positionals);
  let failed = 0;
  const detector = await Detector.create(options);
  try {
    for (const item of items) {
      if ("error" in item) {
        console.error(`error: ${naming(item.path, item.error)}`);
        failed++;
        continue;
      }
      try {
        const t0 = performance.now();
        const image = await readImage(item.path);
        const tDecode = performance.now() - t0;
        const det = await detector.detect(image);
        const t1 = performance.now();
        const paths = await writeOutputs(det, image, outputPaths(item.path, outDir));
        const ms: Record<string, number> = { decode: tDecode, ...det.timings };
        ms.write = performance.now() - t1;
        ms.total = performance.now() - t0;
        for (const k in ms) ms[k] = Math.round(ms[k] * 100) / 100;
        console.log(JSON.stringify({
          path: item.path,
          width: image.width,
          height: image.height,
          score: det.score,
          backend: detector.backend,
          adapter: detector.adapter,
          outputs: paths,
          ms,
        }));
      } catch (err) {
        console.error(`error: ${naming(item.path, oneLine(err))}`);
        failed++;
      }
    }
  } finally {
    await detector.dispose();
  }
  if (failed > 0) console.error(`${failed} of ${items.length} inputs failed`);
  return failed > 0 ? 1 : 0;
}

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = `${dir}/.fca-write-test-${Deno.pid}`;
    await Deno.writeFile(probe, new Uint8Array());
    await Deno.remove(probe);
  } catch (err) {
    throw new UsageError(`--out ${dir}: output folder is not writable (${oneLine(err)})`);
  }
}

/** `path: message`, unless the message already starts by naming the file. */
function naming(path: string, message: string): string {
  return message.startsWith(`${path}:`) ? message : `${path}: ${message}`;
}

/** The first line of an error's message, without the path the caller already prints. */
export function oneLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split("\n")[0];
}
