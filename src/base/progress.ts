/**
 * The one progress bar (evaluation, model download, and any long command): done / total, rate
 * and ETA on one redrawn line when the sink is a terminal, one plain line per update otherwise
 * (logs, CI), so a pipe never sees carriage returns.
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
  /** What is counted: `items` (default; rate in `unit`/s) or `bytes` (MB, MB/s). */
  kind?: "items" | "bytes";
  /** Unit of an item count, for the rate (default `img`). */
  unit?: string;
  /** Text before the bar (e.g. `download`). */
  prefix?: string;
  /**
   * Fraction of the total between two printed updates when not on a terminal (default 0: every
   * update prints a line; a download uses 0.1, a line per 10 %). On a terminal redraws are
   * limited to one per 100 ms instead.
   */
  lineEvery?: number;
}

/** Counts finished items (or bytes) and reports rate and ETA. */
export class ProgressBar {
  private done = 0;
  private readonly start: number;
  private readonly write: (text: string) => void;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly width: number;
  private readonly opts: ProgressOptions;
  private lastDraw = -Infinity;
  private lastStep = -1;
  private printed = -1;

  /** @param total number of items (or bytes) expected; 0 when unknown */
  constructor(readonly total: number, opts: ProgressOptions = {}) {
    const enc = new TextEncoder();
    this.opts = opts;
    this.write = opts.write ?? ((t) => Deno.stderr.writeSync(enc.encode(t)));
    this.tty = opts.tty ?? isStderrTerminal();
    this.now = opts.now ?? (() => performance.now());
    this.width = opts.width ?? 24;
    this.start = this.now();
  }

  /** Mark `n` more items done; `label` names the latest (shown after the counters). */
  tick(label = "", n = 1): void {
    this.update(this.done + n, label);
  }

  /** Set the count done so far (bytes received, say) and draw when due. */
  update(done: number, label = ""): void {
    this.done = this.total > 0 ? Math.min(this.total, done) : done;
    const every = this.opts.lineEvery ?? 0;
    if (this.tty) {
      const t = this.now();
      if (every > 0 && t - this.lastDraw < 100) return;
      this.lastDraw = t;
      this.write(`\r\x1b[2K${this.line(label)}`);
      return;
    }
    if (every > 0) {
      const step = this.total > 0
        ? Math.floor(this.done / this.total / every)
        : Math.floor((this.now() - this.start) / 5000);
      if (step === this.lastStep) return;
      this.lastStep = step;
    }
    this.printed = this.done;
    this.write(`${this.line(label)}\n`);
  }

  /** End the bar: the final state on its own line (moves past the redrawn line on a terminal). */
  finish(label = ""): void {
    if (this.tty) this.write(`\r\x1b[2K${this.line(label)}\n`);
    else if ((this.opts.lineEvery ?? 0) > 0 && this.printed !== this.done) {
      this.write(`${this.line(label)}\n`);
    }
  }

  /** The status text: `[####....] 12/500 2.40 img/s ETA 3m23s label`. */
  line(label = ""): string {
    const elapsed = (this.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const bytes = this.opts.kind === "bytes";
    const left = this.total - this.done;
    const eta = this.total <= 0 ? "" : rate > 0 ? formatDuration(left / rate) : "?";
    const filled = this.total > 0 ? Math.round((this.done / this.total) * this.width) : this.width;
    const bar = "#".repeat(filled) + ".".repeat(this.width - filled);
    const count = bytes
      ? `${mb(this.done)}${this.total > 0 ? ` / ${mb(this.total)}` : ""}`
      : `${this.done}/${this.total}`;
    const speed = bytes ? `${mb(rate)}/s` : `${rate.toFixed(2)} ${this.opts.unit ?? "img"}/s`;
    const parts = [
      this.opts.prefix,
      this.total > 0 || !bytes ? `[${bar}]` : undefined,
      count,
      speed,
      eta ? `ETA ${eta}` : undefined,
      label || undefined,
    ];
    return parts.filter((p) => p !== undefined).join(" ");
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

/** `12345678` → `12.3 MB`. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function isStderrTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}
