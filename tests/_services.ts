/**
 * Helpers for the service tests: `fca serve` and `fca worker` as child processes, a private Redis
 * on 127.0.0.1 (free port, no persistence) stopped by pid, and a line reader on their stderr.
 * @module
 */
import { MODEL_PATH } from "./_shared.ts";

const MOD = new URL("../mod.ts", import.meta.url).pathname;

/** A child process with its stderr collected line by line. */
export class Child {
  readonly lines: string[] = [];
  #waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  readonly status: Promise<Deno.CommandStatus>;
  #out: Promise<string>;

  constructor(readonly process: Deno.ChildProcess, readonly name: string) {
    this.status = process.status;
    this.#out = new Response(process.stdout).text();
    (async () => {
      let rest = "";
      for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        const parts = rest.split("\n");
        rest = parts.pop()!;
        for (const line of parts) this.#line(line);
      }
      if (rest) this.#line(rest);
    })();
  }

  #line(line: string): void {
    this.lines.push(line);
    if (Deno.env.get("FCA_TEST_VERBOSE")) console.error(`[${this.name}] ${line}`);
    this.#waiters = this.#waiters.filter((w) => {
      const m = line.match(w.re);
      if (m) w.resolve(m);
      return !m;
    });
  }

  /** The first stderr line (past or future) matching `re`, or throws after `ms`. */
  waitFor(re: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const m = line.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.name}: no line matching ${re} in ${ms} ms:\n${this.lines.join("\n")}`,
            ),
          ),
        ms,
      );
      this.#waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Everything it wrote on stdout (once it has exited). */
  stdout(): Promise<string> {
    return this.#out;
  }

  /** Send `signal` unless it has exited. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.process.kill(signal);
    } catch { /* gone already */ }
  }
}

/** `deno run -A mod.ts ...args` with the shared model and no colours. */
export function fcaChild(name: string, args: string[], env: Record<string, string> = {}): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MOD, ...args],
    env: { FCA_MODEL: MODEL_PATH, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new Child(process, name);
}

/** Start `fca serve --port 0 ...args`; resolves to the child and its URL once it listens. */
export async function startServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: Child; url: string }> {
  const child = fcaChild("serve", ["serve", "--port", "0", ...args], env);
  const m = await Promise.race([
    child.waitFor(/listening on (http:\/\/[^/ ]+)/, 120_000),
    child.status.then((s) => {
      throw new Error(`serve exited with ${s.code}:\n${child.lines.join("\n")}`);
    }),
  ]);
  return { child, url: m[1] };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Whether Debian's redis-server is installed. */
export const HAVE_REDIS: boolean = (() => {
  try {
    return Deno.statSync("/usr/bin/redis-server").isFile;
  } catch {
    return false;
  }
})();

/** A private Redis on 127.0.0.1 (no persistence); stop() ends it by its pid. */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = freePort();
  const process = new Deno.Command("/usr/bin/redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const child = new Child(process, "redis");
  // redis-server logs to stdout; wait until it accepts connections.
  for (let i = 0; i < 100; i++) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout();
    },
  };
}
