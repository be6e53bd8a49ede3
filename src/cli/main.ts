/**
 * Command dispatch: `detect` (default), `eval`, `demo`; `--help`, `--version`. Every error is
 * one line on stderr with a non-zero exit code.
 * @module
 */
import denoConfig from "../../deno.json" with { type: "json" };
import { DETECT_HELP, runDetect } from "./detect.ts";
import { runDemo } from "./demo.ts";
import { runEval } from "./eval.ts";
import { runCalibrate } from "./calibrate.ts";
import { errorLine, UsageError } from "./options.ts";
import { OptionError } from "../design.ts";

/** The package version (from deno.json). */
export const VERSION: string = denoConfig.version;

const HELP =
  `fca ${VERSION}: zero-shot texture anomaly localisation (Feature Correspondence Analysis)

Commands:
  fca IMAGE|DIR... [options]   localise anomalies (same as 'fca detect ...')
  fca eval DATASET_ROOT [...]  evaluate on an MVTec-layout dataset (fca eval --help)
  fca demo [options]           run on a generated texture with a synthetic defect
  fca calibrate GOOD_DIR... --out profile.json  thresholds from good images (fca calibrate --help)
  fca serve [options]          HTTP service and web page (fca serve --help)
  fca worker --redis URL       take detection jobs from a Redis queue (fca worker --help)
  fca submit IMAGE... --redis URL --out DIR [--wait]  queue detection jobs (fca submit --help)

${DETECT_HELP}`;

/** Run the CLI with `argv` (without the program name); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    if (argv.includes("--version")) {
      console.log(`fca ${VERSION}`);
      return 0;
    }
    const [command, ...rest] = argv;
    if (command === "eval") return await runEval(rest);
    if (command === "calibrate") return await runCalibrate(rest);
    if (command === "serve" || command === "worker" || command === "submit") {
      return await runService(command, rest);
    }
    if (command === "demo") return await runDemo(rest);
    if (argv.includes("--help") || argv.includes("-h") || argv.length === 0) {
      console.log(HELP);
      return argv.length === 0 ? 2 : 0;
    }
    if (command === "detect") return await runDetect(rest);
    return await runDetect(argv);
  } catch (err) {
    console.error(`error: ${errorLine(err, argv[0])}`);
    const usage = err instanceof UsageError || err instanceof OptionError ||
      (err as { code?: string })?.code?.startsWith("ERR_PARSE_ARGS");
    return usage ? 2 : 1;
  }
}

/** The long-running commands, loaded on demand (the fleet's Redis client only when used). */
async function runService(command: string, argv: string[]): Promise<number> {
  if (command === "serve") {
    const { runServe, SERVE_HELP } = await import("../serve/main.ts");
    if (argv.includes("--help") || argv.includes("-h")) return help(SERVE_HELP);
    return await runServe(argv);
  }
  const fleet = await import("../fleet/main.ts");
  if (argv.includes("--help") || argv.includes("-h")) {
    return help(command === "worker" ? fleet.WORKER_HELP : fleet.SUBMIT_HELP);
  }
  return command === "worker" ? await fleet.runWorker(argv) : await fleet.runSubmit(argv);
}

function help(text: string): number {
  console.log(text);
  return 0;
}
