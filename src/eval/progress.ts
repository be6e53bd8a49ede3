/**
 * The evaluation's progress bar is the project's one bar (`src/base/progress.ts`).
 * @module
 */
export { formatDuration, ProgressBar, type ProgressOptions } from "../base/progress.ts";
