/**
 * Command-line options shared by `detect`, `eval` and `demo`: the flags, help lines and checks all
 * come from the design table (`src/design.ts`); this module turns parsed values into
 * {@link DetectorOptions}, with one-line usage errors.
 * @module
 */
import type { DetectorOptions } from "../pipeline/detector.ts";
import {
  DECISION_OPTIONS,
  type DecisionSettings,
  OptionError,
  parseDecisionFlags,
  parsePipelineFlags,
  type PipelineSettings,
} from "../design.ts";

export { DECISION_FLAGS, DECISION_HELP, PIPELINE_FLAGS, PIPELINE_HELP } from "../design.ts";

/** Help lines of the region options alone (`--min-area`, `--border`), for calibrate. */
export const REGION_HELP: string = DECISION_OPTIONS
  .filter((o) => o.name === "minArea" || o.name === "border")
  .map((o) => `  --${o.flag} ${o.arg}`.padEnd(21) + `${o.help} (default ${o.default})`)
  .join("\n");

/** A usage error: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Turn parsed pipeline flag values into validated detector options. */
export function toDetectorOptions(values: Record<string, unknown>): DetectorOptions {
  let s: PipelineSettings;
  try {
    s = parsePipelineFlags(values);
  } catch (err) {
    if (err instanceof OptionError) throw new UsageError(err.message);
    throw err;
  }
  const { patch, sigmaP, sigmaS, ...rest } = s;
  return { ...rest, params: { patch, sigmaP, sigmaS } };
}

/** Validated decision settings from parsed flag values, as usage errors. */
export function decisionSettings(values: Record<string, unknown>): DecisionSettings {
  try {
    return parseDecisionFlags(values);
  } catch (err) {
    if (err instanceof OptionError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The one-line message of an error reaching the command line. Parser errors of `node:util`
 * become `unknown option --x (see fca --help)` instead of Node's advice with an unclosed quote.
 */
export function errorLine(err: unknown, command?: string): string {
  const code = (err as { code?: string })?.code ?? "";
  const message = String(err instanceof Error ? err.message : err);
  const first = message.split("\n")[0];
  if (!code.startsWith("ERR_PARSE_ARGS")) return first;
  const sub = command === "eval" || command === "demo" ? ` ${command}` : "";
  const see = `(see fca${sub} --help)`;
  const unknown = /^Unknown option '([^']+)'/.exec(first);
  if (unknown) return `unknown option ${unknown[1]} ${see}`;
  const unexpected = /^Unexpected argument '([^']+)'/.exec(first);
  if (unexpected) return `unexpected argument ${unexpected[1]} ${see}`;
  return `${first.replace(/\.$/, "")} ${see}`;
}
