/**
 * A progress bar for long evaluation runs: images done / total, rate and ETA on one redrawn line
 * when the sink is a terminal, one plain line per update otherwise (logs, CI).
 * @module
 */

/** Where and how progress is drawn. */
export interface ProgressOptions {
  /** Text sink (default: stderr). */
  write?: (text: string) => void;
  /** Redraw in place (default: whether stderr is a terminal). */
  tty?: boolean;
  /** Clock in milliseconds (default: performance.now). */
  now?: () => number;
  /** Bar width in characters (default 24). */
  width?: number;
}

/** Counts finished items and reports rate and ETA. */
export class ProgressBar {
  private done = 0;
  private readonly start: number;
  private readonly write: (text: string) => void;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly width: number;

  /** @param total number of items expected */
  constructor(readonly total: number, opts: ProgressOptions = {}) {
    const enc = new TextEncoder();
    this.write = opts.write ?? ((t) => Deno.stderr.writeSync(enc.encode(t)));
    this.tty = opts.tty ?? Deno.stderr.isTerminal();
    this.now = opts.now ?? (() => performance.now());
    this.width = opts.width ?? 24;
    this.start = this.now();
  }

  /** Mark `n` more items done; `label` names the latest (shown after the counters). */
  tick(label = "", n = 1): void {
    this.done = Math.min(this.total, this.done + n);
    const line = this.line(label);
    if (this.tty) this.write(`\r\x1b[2K${line}`);
    else this.write(`${line}\n`);
  }

  /** End the bar (moves past the redrawn line on a terminal). */
  finish(): void {
    if (this.tty) this.write("\n");
  }

  /** The status text: `[####....] 12/500 2.40 img/s ETA 3m23s label`. */
  line(label = ""): string {
    const elapsed = (this.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const left = this.total - this.done;
    const eta = rate > 0 ? formatDuration(left / rate) : "?";
    const filled = this.total > 0 ? Math.round((this.done / this.total) * this.width) : this.width;
    const bar = "#".repeat(filled) + ".".repeat(this.width - filled);
    const text = `[${bar}] ${this.done}/${this.total} ${rate.toFixed(2)} img/s ETA ${eta}`;
    return label ? `${text} ${label}` : text;
  }
}

/** `75` → `1m15s`, `3723` → `1h02m03s`, `4.2` → `4s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m${String(r).padStart(2, "0")}s`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}
