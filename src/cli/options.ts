/**
 * Command-line options shared by `detect`, `eval` and `demo`: the flags, help lines and checks all
 * come from the design table (`src/design.ts`); this module turns parsed values into
 * {@link DetectorOptions}, with one-line usage errors.
 * @module
 */
import type { DetectorOptions } from "../pipeline/detector.ts";
import { OptionError, parsePipelineFlags, type PipelineSettings } from "../design.ts";

export { PIPELINE_FLAGS, PIPELINE_HELP } from "../design.ts";

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
