/**
 * `deno task model`: build the default backbone (see `src/features/model_fetch.ts`, the same
 * code that downloads it on first use).
 * @module
 */

import { parseArgs } from "node:util";
import { buildModel, DEFAULT_TAP, ZOO_SHA256, ZOO_URL } from "../features/model_fetch.ts";
import { defaultModelLocations, sharedModelPath } from "../features/model_path.ts";

export {
  DEFAULT_TAP,
  download,
  maxAbsDiff,
  prepareBackbone,
  runOnce,
  ZOO_URL,
} from "../features/model_fetch.ts";

const USAGE = `deno task model [options]

Builds models/resnet50v2-stage2.onnx from the ONNX model zoo's resnet50-v2-7 (Apache-2.0).
(The detector does the same by itself when it finds no model.)

  --url URL      where to download the zoo model (default: ${ZOO_URL})
  --from FILE    use a local copy of resnet50-v2-7.onnx instead of downloading
  --sha256 HEX   expected sha256 of the zoo model, or 'none' (default: ${ZOO_SHA256.slice(0, 8)}…
                 for the default URL, no check for --from or another --url)
  --out FILE     output path (default: models/resnet50v2-stage2.onnx in the project)
  --tap NAME     tensor to cut at (default: ${DEFAULT_TAP})
  --help         show this help`;

/** Entry point; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: "string" },
        from: { type: "string" },
        sha256: { type: "string" },
        out: { type: "string" },
        tap: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`model: ${(e as Error).message.split("\n")[0]} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sha = values.sha256;
  if (sha !== undefined && sha !== "none" && !/^[0-9a-fA-F]{64}$/.test(sha)) {
    console.error(`model: --sha256 must be 64 hex digits or 'none', got '${sha}' (see --help)`);
    return 2;
  }
  try {
    const built = await buildModel({
      out: values.out ?? defaultModelLocations()[0],
      from: values.from,
      url: values.url,
      sha256: sha === "none" ? null : sha,
      tap: values.tap,
      reference: sharedModelPath(),
    });
    console.log(`wrote ${built.path}`);
    console.log(`sha256 ${built.sha256}`);
    return 0;
  } catch (e) {
    console.error(`model: ${(e as Error).message.split("\n")[0]}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
