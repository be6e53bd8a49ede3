/**
 * The detectors of a long-running process (`fca serve`, `fca worker`): one default detector
 * built from the command line's pipeline flags and shared by every request, plus at most a few
 * variants for requests that ask for other pipeline options (built on first use, least recently
 * used dropped). Requests name options by their flag (`patch`, `sigma-p`, ...) and are checked by
 * the design table (`src/design.ts`), as the CLI's flags are. Options naming server resources (the
 * model file, the backend, CPU threads) are set when the process starts and refused per request.
 * @module
 */
import {
  OptionError,
  parsePipelineFlags,
  PIPELINE_OPTIONS,
  type PipelineSettings,
  type SettingName,
} from "../design.ts";
import { Detector, type DetectorOptions } from "../pipeline/detector.ts";

/** Pipeline settings only the process's own command line sets (never a request). */
export const PROCESS_ONLY: readonly SettingName[] = ["model", "backend", "threads"];

/** Flag names a request may set. */
export const REQUEST_FLAGS: readonly string[] = PIPELINE_OPTIONS
  .filter((o) => !PROCESS_ONLY.includes(o.name))
  .map((o) => o.flag);

/** Detector options from validated settings. */
export function toOptions(s: PipelineSettings): DetectorOptions {
  const { patch, sigmaP, sigmaS, ...rest } = s;
  return { ...rest, params: { patch, sigmaP, sigmaS } };
}

/** A request's settings and the key of the detector that runs them. */
export interface Resolved {
  key: string;
  settings: PipelineSettings;
}

/** The default detector and a bounded set of variants, one detection at a time in all. */
export class DetectorPool {
  #variants = new Map<string, { detector: Detector; users: number; dropped: boolean }>();
  #creating = new Map<string, Promise<Detector>>();

  private constructor(
    /** Flag-keyed values of the process's command line. */
    private readonly base: Record<string, unknown>,
    /** The detector of the command line's settings. */
    readonly main: Detector,
    private readonly mainKey: string,
    /** Variants kept besides the default one. */
    private readonly maxVariants: number,
  ) {}

  /** Build the default detector from flag-keyed values (`parseArgs` output). */
  static async create(values: Record<string, unknown>, maxVariants = 2): Promise<DetectorPool> {
    const settings = parsePipelineFlags(values);
    const main = await Detector.create(toOptions(settings));
    return new DetectorPool(values, main, keyOf(main.settings, settings), maxVariants);
  }

  /**
   * The settings of a request whose flag-keyed `options` (strings or numbers) overlay the
   * command line's. Throws an {@link OptionError} (one line) for an unknown or refused key or a
   * bad value.
   */
  resolve(options: Record<string, unknown>): Resolved {
    const values: Record<string, unknown> = { ...this.base };
    for (const [flag, value] of Object.entries(options)) {
      const spec = PIPELINE_OPTIONS.find((o) => o.flag === flag);
      if (!spec) throw new OptionError(`unknown option '${flag}'`);
      if (PROCESS_ONLY.includes(spec.name)) {
        throw new OptionError(`--${flag} is set when the process starts, not per request`);
      }
      values[flag] = typeof value === "number" ? String(value) : value;
    }
    const settings = parsePipelineFlags(values);
    return { key: keyOf(this.main.settings, settings), settings };
  }

  /**
   * The detector for resolved settings (the default one, or a variant built on first use), held
   * until `release()`: a variant dropped from the cache meanwhile is disposed only once released.
   */
  async acquire(r: Resolved): Promise<{ detector: Detector; release(): void }> {
    if (r.key === this.mainKey) return { detector: this.main, release() {} };
    let entry = this.#variants.get(r.key);
    if (entry) {
      this.#variants.delete(r.key); // re-insert: most recently used last
      this.#variants.set(r.key, entry);
    } else {
      if (this.maxVariants <= 0) {
        throw new OptionError(
          "this process runs only its own pipeline options (started with --max-variants 0)",
        );
      }
      let pending = this.#creating.get(r.key);
      if (!pending) {
        pending = Detector.create(toOptions({ ...r.settings, ...this.processOnly() }));
        this.#creating.set(r.key, pending);
        pending.then(() => this.#creating.delete(r.key), () => this.#creating.delete(r.key));
      }
      const detector = await pending;
      entry = this.#variants.get(r.key);
      if (!entry) {
        entry = { detector, users: 0, dropped: false };
        this.#variants.set(r.key, entry);
        while (this.#variants.size > this.maxVariants) {
          const [oldest, old] = this.#variants.entries().next().value!;
          this.#variants.delete(oldest);
          old.dropped = true;
          if (old.users === 0) await old.detector.dispose();
        }
      }
    }
    const held = entry;
    held.users++;
    let released = false;
    return {
      detector: held.detector,
      release: () => {
        if (released) return;
        released = true;
        if (--held.users === 0 && held.dropped) held.detector.dispose().catch(() => {});
      },
    };
  }

  private processOnly(): Partial<PipelineSettings> {
    const out: Record<string, unknown> = {};
    for (const name of PROCESS_ONLY) {
      if (this.main.settings[name] !== undefined) out[name] = this.main.settings[name];
    }
    return out as Partial<PipelineSettings>;
  }

  /** Variants currently built. */
  get variants(): number {
    return this.#variants.size;
  }

  /** Release every detector. */
  async dispose(): Promise<void> {
    for (const v of this.#variants.values()) await v.detector.dispose();
    this.#variants.clear();
    await this.main.dispose();
  }
}

/** Key of the settings that choose a detector (the process-only ones come from the default). */
function keyOf(main: PipelineSettings, s: PipelineSettings): string {
  const key: Record<string, unknown> = {};
  for (const o of PIPELINE_OPTIONS) {
    key[o.name] = PROCESS_ONLY.includes(o.name) ? main[o.name] ?? null : s[o.name] ?? null;
  }
  return JSON.stringify(key);
}
