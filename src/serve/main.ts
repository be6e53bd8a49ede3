/**
 * `fca serve`: the HTTP service (see `server.ts`) with its flags, its start-up line and a graceful
 * shutdown on SIGTERM/SIGINT (stop accepting, finish the requests in flight, exit 0).
 * @module
 */
import { parseArgs } from "node:util";
import { OptionError, PIPELINE_FLAGS, PIPELINE_HELP } from "../design.ts";
import { DetectorPool } from "./detectors.ts";
import { startServer } from "./server.ts";
import { defaultIoWorkers } from "../io/io_pool.ts";
import { resolveModelPath } from "../features/model_path.ts";
import { AppFiles, DEFAULT_APP_ROOT } from "./app_files.ts";

/** Help text of the serve command. */
export const SERVE_HELP = `Usage: fca serve [options]
Serves POST /v1/detect (body: a PNG or JPEG image; pipeline options as query parameters named as
the flags below, e.g. ?patch=7; include=heatmap,overlay,mask,map adds the outputs as base64;
threshold=T [min_area=N] adds a verdict, regions and the mask), GET /v1/health, GET /metrics
(Prometheus), the web page at / and the browser app at /app (built by 'deno task web'; it runs
the detector in the browser, with this server's model). One detector, built from the flags below,
serves every request.

Server options:
  --port N           TCP port (default 8080; 0 picks a free one)
  --host H           address to bind (default 127.0.0.1: this machine only)
  --token T          require 'Authorization: Bearer T' on /v1/* and /metrics (default
                     $FCA_TOKEN; none: open). Prefer FCA_TOKEN: flags show in process lists
  --cors ORIGIN      allow this origin to call the API from a browser (default: no CORS)
  --queue N          requests that may wait while one detects; more get 503 (default 16)
  --max-body-mb N    largest request body in MiB (default 50)
  --max-pixels N     largest image, width x height (default 16777216 = 4096x4096)
  --timeout-ms N     per-request timeout, admission to answer (default 120000)
  --max-variants N   detectors kept for requests with other pipeline options (default 2)
  --io-workers N     threads decoding uploads and encoding outputs (default: the cores the
                     detector leaves free, at most 8; 0 = on the main thread)
  --app DIR          folder of the browser app served at /app (default: dist/web of this
                     project, built by 'deno task web')

Pipeline options (the defaults of every request; --model, --backend, --threads only here):
${PIPELINE_HELP}`;

const SERVE_FLAGS = {
  port: { type: "string" },
  host: { type: "string" },
  token: { type: "string" },
  cors: { type: "string" },
  queue: { type: "string" },
  "max-body-mb": { type: "string" },
  "max-pixels": { type: "string" },
  "timeout-ms": { type: "string" },
  "max-variants": { type: "string" },
  "io-workers": { type: "string" },
  app: { type: "string" },
} as const;

/** Run the serve command until SIGTERM/SIGINT; resolves to the exit code. */
export async function runServe(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...PIPELINE_FLAGS, ...SERVE_FLAGS },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) {
    throw new OptionError(`serve takes no inputs, got '${positionals[0]}' (see --help)`);
  }
  const int = (flag: keyof typeof SERVE_FLAGS, def: number, min: number, max: number) => {
    const text = values[flag];
    if (text === undefined) return def;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max || text.trim() === "") {
      throw new OptionError(`--${flag} must be an integer in [${min}, ${max}], got '${text}'`);
    }
    return n;
  };
  const token = values.token ?? Deno.env.get("FCA_TOKEN") ?? undefined;
  if (token !== undefined && token.length === 0) throw new OptionError("--token must not be empty");
  const ioWorkers = values["io-workers"] === undefined ? undefined : int("io-workers", 0, 0, 64);
  const config = {
    host: values.host ?? "127.0.0.1",
    port: int("port", 8080, 0, 65535),
    token,
    cors: values.cors,
    queue: int("queue", 16, 0, 100_000),
    maxBodyBytes: int("max-body-mb", 50, 1, 4096) * (1 << 20),
    maxPixels: int("max-pixels", 4096 * 4096, 64, 2 ** 28),
    timeoutMs: int("timeout-ms", 120_000, 1, 86_400_000),
  };
  const maxVariants = int("max-variants", 2, 0, 16);
  const appRoot = values.app === undefined
    ? DEFAULT_APP_ROOT
    : new URL(`${values.app.replace(/\/+$/, "")}/`, `file://${Deno.cwd()}/`);
  const pool = await DetectorPool.create(values, maxVariants);
  // The page runs the server's own backbone (the default `onnx` features only: the page has no
  // option naming another extractor's file).
  const main = pool.main.settings;
  const app = {
    root: appRoot,
    ...(main.features === "onnx"
      ? { modelPath: resolveModelPath(main.model), output: main.output }
      : {}),
  };
  const server = await startServer(pool, {
    ...config,
    ioWorkers: ioWorkers ?? defaultIoWorkers(pool.main.threads),
    app,
  });
  const appBuilt = await new AppFiles(app).built();
  console.error(
    `fca serve: listening on ${server.url}/ (backend ${pool.main.backend}; ${pool.main.adapter}; ` +
      `${server.service.codec.size} io workers)` +
      (token !== undefined ? "; bearer token required" : "") +
      (appBuilt ? `; browser app at ${server.url}/app/` : "; /app not built (deno task web)"),
  );
  let signals = 0;
  const stop = (name: string) => () => {
    if (signals++ > 0) {
      console.error(`fca serve: ${name} again, exiting now`);
      Deno.exit(1);
    }
    console.error(`fca serve: ${name}: finishing the requests in flight, then exiting`);
    server.shutdown();
  };
  const onTerm = stop("SIGTERM"), onInt = stop("SIGINT");
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onInt);
  await server.finished;
  Deno.removeSignalListener("SIGTERM", onTerm);
  Deno.removeSignalListener("SIGINT", onInt);
  console.error("fca serve: stopped");
  return 0;
}
