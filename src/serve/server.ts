/**
 * The HTTP service: one process, one {@link DetectorPool} shared by every request (Deno.serve).
 *
 * - `POST /v1/detect`: the body is the image (PNG or JPEG; `Content-Type: image/png`,
 *   `image/jpeg`, or `multipart/form-data` with one file). Pipeline options are query parameters
 *   named as the CLI's flags (`?patch=7&stats=sww`), checked by the same design table; `threshold`
 *   and `min_area` ask for a decision (verdict, regions, mask); `include=heatmap,overlay,mask,map`
 *   adds those outputs, base64-encoded, under `outputs` (PNGs; the map as a float32 `.npy`);
 *   `timeout_ms` shortens the server's per-request timeout. The answer is the CLI's JSON line
 *   without file paths.
 * - `GET /v1/health`, `GET /metrics` (Prometheus), `GET /` (the web page, `static/`).
 * - `GET /app/`: the browser app (`deno task web`), which runs the detector in the page itself,
 *   with the server's model at `/app/model.json` and `/app/model.onnx` (`app_files.ts`).
 *
 * Load and bad input: a bounded line in front of the detector (503 + Retry-After when full), a
 * body limit (413), a pixel limit (413), unsupported types (415), undecodable images (400 with
 * the CLI's one-line message), a per-request timeout (504). With a token, `/v1/*` and `/metrics`
 * need `Authorization: Bearer TOKEN` (401 otherwise; compared in constant time).
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { OptionError } from "../design.ts";
import { INCLUDE_KINDS, type IncludeKind, UploadError } from "./codec.ts";
import { CodecPool } from "./codec_pool.ts";
import { Abandoned, Admission, type Ticket } from "./admission.ts";
import { decideHook, type DecisionRequest } from "./decision_hook.ts";
import { detectionFields } from "../cli/detect.ts";
import { type DetectorPool, REQUEST_FLAGS } from "./detectors.ts";
import { Metrics } from "./metrics.ts";
import { type AppConfig, AppError, AppFiles } from "./app_files.ts";

/** Server settings (see `fca serve --help`). */
export interface ServeConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Bearer token required on `/v1/*` and `/metrics` (none: open). */
  token?: string;
  /** Origin allowed by CORS (none: no CORS headers). */
  cors?: string;
  /** Requests that may wait while one detects. */
  queue: number;
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  /** Largest image in pixels (width × height). */
  maxPixels: number;
  /** Per-request timeout in milliseconds (admission to answer). */
  timeoutMs: number;
  /** Threads decoding uploads and encoding outputs (0: on the main thread). */
  ioWorkers: number;
  /** The browser app served at `/app` (none: `/app` is not a route). */
  app?: AppConfig;
}

export { INCLUDE_KINDS };

/** Query parameters besides the pipeline flags. */
const OTHER_PARAMS = ["include", "threshold", "min_area", "timeout_ms"];

const ACCEPTED_TYPES = ["image/png", "image/jpeg"];

/** An answer with a status other than 200, as JSON `{"error": message}`. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: HeadersInit = {}) {
    super(message);
  }
}

/** What a running server offers its owner. */
export interface RunningServer {
  /** `http://host:port` it listens on. */
  url: string;
  /** Stop accepting, let the requests in flight finish, release the detectors. */
  shutdown(): Promise<void>;
  /** Resolves once the server has shut down. */
  finished: Promise<void>;
}

/** The static files of the web page, read once. */
async function loadStatic(): Promise<Map<string, { body: Uint8Array; type: string }>> {
  const files: [string, string, string][] = [
    ["/", "index.html", "text/html; charset=utf-8"],
    ["/app.js", "app.js", "text/javascript; charset=utf-8"],
    ["/style.css", "style.css", "text/css; charset=utf-8"],
  ];
  const out = new Map<string, { body: Uint8Array; type: string }>();
  for (const [route, file, type] of files) {
    out.set(route, {
      body: await Deno.readFile(new URL(`./static/${file}`, import.meta.url)),
      type,
    });
  }
  return out;
}

/** The request handler and its state (exported for tests and embedding). */
export class FcaService {
  readonly metrics = new Metrics();
  readonly admission: Admission;
  readonly codec: CodecPool;
  /** The browser app's files, when configured. */
  readonly app: AppFiles | undefined;
  #ready = true;
  #tokenDigest?: Uint8Array;

  private constructor(
    readonly pool: DetectorPool,
    readonly config: ServeConfig,
    private readonly files: Map<string, { body: Uint8Array; type: string }>,
  ) {
    this.admission = new Admission(config.queue);
    this.codec = CodecPool.create(config.ioWorkers);
    this.app = config.app ? new AppFiles(config.app) : undefined;
  }

  /** A service around `pool`. */
  static async create(pool: DetectorPool, config: ServeConfig): Promise<FcaService> {
    const service = new FcaService(pool, config, await loadStatic());
    if (config.token !== undefined) service.#tokenDigest = await digest(config.token);
    return service;
  }

  /** Stop admitting detections (health reports not ready). */
  drain(): void {
    this.#ready = false;
  }

  /** Answer one request. */
  handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const route = routeOf(url.pathname);
    let res: Response;
    try {
      res = await this.#dispatch(req, url, route);
    } catch (err) {
      if (err instanceof HttpError) {
        res = json({ error: err.message }, err.status, err.headers);
      } else {
        res = json({ error: `internal error: ${oneLine(err)}` }, 500);
      }
    }
    this.metrics.request(route, res.status);
    if (this.config.cors !== undefined) {
      res.headers.set("access-control-allow-origin", this.config.cors);
      res.headers.set("vary", "Origin");
    }
    return res;
  };

  async #dispatch(req: Request, url: URL, route: string): Promise<Response> {
    if (req.method === "OPTIONS" && this.config.cors !== undefined) {
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-methods": "GET, POST, OPTIONS",
          "access-control-allow-headers": "authorization, content-type",
          "access-control-max-age": "600",
        },
      });
    }
    if (route === "/v1/detect" || route === "/v1/health" || route === "/metrics") {
      await this.#authorize(req);
    }
    switch (route) {
      case "/v1/detect":
        allow(req, "POST");
        return await this.#detect(req, url);
      case "/v1/health":
        allow(req, "GET");
        return json(this.#health());
      case "/metrics":
        allow(req, "GET");
        return new Response(
          this.metrics.render({
            queueDepth: this.admission.depth,
            inFlight: this.admission.inFlight,
            ready: this.#ready,
          }),
          { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } },
        );
    }
    if (route === "/app" && this.app) return await this.#app(req, url);
    const file = this.files.get(url.pathname === "/index.html" ? "/" : url.pathname);
    if (file) {
      allow(req, "GET");
      return new Response(file.body.slice(), {
        headers: {
          "content-type": file.type,
          "cache-control": "no-cache",
          "x-content-type-options": "nosniff",
          "content-security-policy":
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'",
        },
      });
    }
    throw new HttpError(404, `no route ${url.pathname}`);
  }

  /** `/app`: the browser app's files; its model needs the token when there is one. */
  async #app(req: Request, url: URL): Promise<Response> {
    allow(req, "GET");
    if (url.pathname === "/app") {
      // The page loads its files by relative URLs: they resolve under /app/ only.
      return new Response(null, { status: 308, headers: { location: `/app/${url.search}` } });
    }
    const rest = url.pathname.slice("/app/".length);
    if (this.app!.isModel(rest)) await this.#authorize(req);
    try {
      const { body, headers } = await this.app!.file(rest);
      return new Response(req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, {
        headers: { ...headers, "content-length": String(body.byteLength) },
      });
    } catch (err) {
      if (err instanceof AppError) throw new HttpError(err.status, err.message);
      throw err;
    }
  }

  async #authorize(req: Request): Promise<void> {
    if (!this.#tokenDigest) return;
    const header = req.headers.get("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests of equal length in constant time (the length of the token never leaks).
    const given = await digest(m ? m[1].trim() : "");
    if (!m || !timingSafeEqual(given, this.#tokenDigest)) {
      throw new HttpError(401, "missing or wrong bearer token", {
        "www-authenticate": 'Bearer realm="fca"',
      });
    }
  }

  #health() {
    const d = this.pool.main;
    return {
      ready: this.#ready,
      backend: d.backend,
      adapter: d.adapter,
      model_sha256: d.modelSha256,
      queue_depth: this.admission.depth,
      in_flight: this.admission.inFlight,
    };
  }

  async #detect(req: Request, url: URL): Promise<Response> {
    const t0 = performance.now();
    if (!this.#ready) throw new HttpError(503, "shutting down", { "retry-after": "5" });
    const q = this.#parseQuery(url.searchParams);
    const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    const multipart = type === "multipart/form-data";
    if (!multipart && !ACCEPTED_TYPES.includes(type)) {
      throw new HttpError(
        415,
        `unsupported Content-Type '${
          type || "(none)"
        }': send image/png, image/jpeg or multipart/form-data with one file`,
      );
    }
    const declared = Number(req.headers.get("content-length") ?? NaN);
    if (declared > this.config.maxBodyBytes) throw this.#tooLarge();
    const ticket = this.admission.admit();
    if (!ticket) {
      const wait = Math.max(
        1,
        Math.ceil((this.admission.depth + 1) * this.metrics.meanSeconds),
      );
      throw new HttpError(503, "busy: the queue is full, retry later", {
        "retry-after": String(wait),
      });
    }
    // A timer cleared with the answer (AbortSignal.timeout would hold each request's state for
    // the whole timeout), and the client going away.
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException("request timed out", "TimeoutError")),
      q.timeoutMs,
    );
    const signal = AbortSignal.any([req.signal, timeout.signal]);
    let running: Promise<unknown> | undefined;
    try {
      const body = await withSignal(this.#readBody(req, multipart), signal, q.timeoutMs);
      const ms: Record<string, number> = {};
      let lap = performance.now();
      const image = await withSignal(this.#decode(body), signal, q.timeoutMs);
      ms.decode = performance.now() - lap;
      const acquiring = this.#detector(q.options);
      const lease = await withSignal(acquiring, signal, q.timeoutMs).catch((err) => {
        acquiring.then((l) => l.release(), () => {});
        throw err;
      });
      const detector = lease.detector;
      try {
        await waitTurn(ticket, signal, q.timeoutMs);
      } catch (err) {
        lease.release();
        throw err;
      }
      // The detection keeps the detector until it ends, even when the client stops waiting.
      const detection = detector.detect(image).finally(() => {
        ticket.done();
        lease.release();
      });
      running = detection.catch(() => {});
      const det = await withSignal(detection, signal, q.timeoutMs).catch((err) => {
        if (err instanceof HttpError) throw err;
        throw inputError(err) ?? err;
      });
      Object.assign(ms, det.timings);
      lap = performance.now();
      const decision = decideHook(det.map, q.decision);
      ms.decide = performance.now() - lap;
      lap = performance.now();
      const outputs = await this.codec.encode({
        detection: det,
        image,
        mask: decision.mask,
        kinds: q.include,
      });
      if (q.include.length) ms.encode = performance.now() - lap;
      ms.latency = performance.now() - t0;
      for (const k in ms) ms[k] = Math.round(ms[k] * 100) / 100;
      this.metrics.image((performance.now() - t0) / 1000);
      return json({
        ...detectionFields(
          { width: image.width, height: image.height, ...det, decision: decision.fields },
          detector,
        ),
        ms,
        ...(q.include.length ? { outputs } : {}),
      });
    } finally {
      clearTimeout(timer);
      // A detection the client stopped waiting for still counts until it ends.
      if (running) running.finally(() => ticket.leave());
      else ticket.leave();
    }
  }

  #tooLarge(): HttpError {
    return new HttpError(
      413,
      `request body larger than the server's limit of ${this.config.maxBodyBytes} bytes`,
    );
  }

  async #decode(bytes: Uint8Array) {
    try {
      return await this.codec.decode(bytes, this.config.maxPixels);
    } catch (err) {
      if (err instanceof UploadError) throw new HttpError(err.status, err.message);
      throw err;
    }
  }

  async #detector(options: Record<string, string>) {
    try {
      return await this.pool.acquire(this.pool.resolve(options));
    } catch (err) {
      if (err instanceof OptionError) throw new HttpError(400, err.message);
      throw err;
    }
  }

  #parseQuery(params: URLSearchParams) {
    const options: Record<string, string> = {};
    const decision: DecisionRequest = {};
    let include: IncludeKind[] = [];
    let timeoutMs = this.config.timeoutMs;
    for (const [key, value] of params) {
      if (REQUEST_FLAGS.includes(key)) {
        options[key] = value;
      } else if (key === "include") {
        include = value.split(",").map((s) => s.trim()).filter((s) => s !== "") as IncludeKind[];
        const bad = include.find((k) => !INCLUDE_KINDS.includes(k));
        if (bad) {
          throw new HttpError(400, `include must list ${INCLUDE_KINDS.join(", ")}; got '${bad}'`);
        }
      } else if (key === "threshold") {
        const t = value.trim() === "" ? NaN : Number(value);
        if (!Number.isFinite(t)) {
          throw new HttpError(400, `threshold must be a number, got '${value}'`);
        }
        decision.threshold = t;
      } else if (key === "min_area") {
        const a = value.trim() === "" ? NaN : Number(value);
        if (!Number.isInteger(a) || a < 1) {
          throw new HttpError(400, `min_area must be an integer >= 1, got '${value}'`);
        }
        decision.minArea = a;
      } else if (key === "timeout_ms") {
        const t = Number(value);
        if (!Number.isInteger(t) || t < 1 || value.trim() === "") {
          throw new HttpError(400, `timeout_ms must be an integer >= 1, got '${value}'`);
        }
        timeoutMs = Math.min(t, this.config.timeoutMs);
      } else if (["model", "backend", "threads"].includes(key)) {
        throw new HttpError(400, `--${key} is set when the server starts, not per request`);
      } else {
        throw new HttpError(
          400,
          `unknown query parameter '${key}' (pipeline flags: ${REQUEST_FLAGS.join(", ")}; also ${
            OTHER_PARAMS.join(", ")
          })`,
        );
      }
    }
    try {
      this.pool.resolve(options); // check every value now, before reading the body
    } catch (err) {
      if (err instanceof OptionError) throw new HttpError(400, err.message);
      throw err;
    }
    return { options, decision, include: [...new Set(include)], timeoutMs };
  }

  async #readBody(req: Request, multipart: boolean): Promise<Uint8Array> {
    const limit = this.config.maxBodyBytes;
    const bytes = await readLimited(req, limit, () => this.#tooLarge());
    if (!multipart) return bytes;
    let form: FormData;
    try {
      form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": req.headers.get("content-type")! },
      }).formData();
    } catch (err) {
      throw new HttpError(400, `malformed multipart body (${oneLine(err)})`);
    }
    const files = [...form.values()].filter((v): v is File => typeof v !== "string");
    if (files.length !== 1) {
      throw new HttpError(400, `multipart body must hold exactly one file, got ${files.length}`);
    }
    const fileType = files[0].type.toLowerCase();
    if (
      fileType !== "" && fileType !== "application/octet-stream" &&
      !ACCEPTED_TYPES.includes(fileType)
    ) {
      throw new HttpError(415, `unsupported file type '${fileType}': send a PNG or JPEG image`);
    }
    return new Uint8Array(await files[0].arrayBuffer());
  }
}

/** Start serving; resolves once listening. */
export async function startServer(
  pool: DetectorPool,
  config: ServeConfig,
): Promise<RunningServer & { service: FcaService }> {
  const service = await FcaService.create(pool, config);
  let resolveAddr: (a: Deno.NetAddr) => void;
  const listening = new Promise<Deno.NetAddr>((r) => resolveAddr = r);
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: (addr) => resolveAddr(addr as Deno.NetAddr),
  }, service.handle);
  const addr = await listening;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      service.drain();
      await server.shutdown();
      service.codec.dispose();
      await pool.dispose();
    })();
  return {
    url: `http://${host}:${addr.port}`,
    shutdown,
    finished: server.finished.then(() => stopping),
    service,
  };
}

function routeOf(path: string): string {
  if (path === "/v1/detect" || path === "/v1/health" || path === "/metrics") return path;
  if (path === "/" || path === "/index.html" || path === "/app.js" || path === "/style.css") {
    return "/static";
  }
  if (path === "/app" || path.startsWith("/app/")) return "/app";
  return "other";
}

function allow(req: Request, method: string): void {
  if (req.method !== method && !(method === "GET" && req.method === "HEAD")) {
    throw new HttpError(405, `${req.method} is not allowed here (use ${method})`, {
      allow: method,
    });
  }
}

function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** The body, refused with `tooLarge()` as soon as it passes `limit` bytes. */
async function readLimited(
  req: Request,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** `p`, unless `signal` fires first: then a 504 (timeout) or 499 (client gone). */
function withSignal<T>(p: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal, timeoutMs));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, timeoutMs));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function waitTurn(ticket: Ticket, signal: AbortSignal, timeoutMs: number): Promise<void> {
  try {
    await ticket.turn(signal);
  } catch (err) {
    if (err instanceof Abandoned) throw abortError(signal, timeoutMs);
    throw err;
  }
}

function abortError(signal: AbortSignal, timeoutMs: number): HttpError {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === "TimeoutError"
    ? new HttpError(504, `timed out after ${timeoutMs} ms`)
    : new HttpError(499, "client closed the request");
}

/** A 400 for errors about the input itself (an image too small for the patch). */
function inputError(err: unknown): HttpError | undefined {
  const msg = oneLine(err);
  return /^image \d+x\d+ gives a \d+x\d+ feature map/.test(msg)
    ? new HttpError(400, msg)
    : undefined;
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
}

/** First line of an error's message. */
export function oneLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split("\n")[0];
}
