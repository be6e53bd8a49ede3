/**
 * `/app`: the browser app (`deno task web` builds it into `dist/web/`) served as static files,
 * plus the server's own backbone for it: `/app/model.json` and `/app/model.onnx`, so that the
 * page runs the same model as the API (the page downloads it once and keeps it in the browser).
 *
 * Only plain relative paths inside the app's folder are served (no `..`, no hidden files); the
 * answers carry the page's Content-Security-Policy, under which the page reaches no other origin.
 * @module
 */
import { type OriginModelInfo, originModelInfo } from "../features/model_info.ts";

/** Where the app and its model come from. */
export interface AppConfig {
  /** Folder of the built app (a URL ending in `/`: a `file:` URL, or one inside a binary). */
  root: URL;
  /** The model file served with it (none: `/app/model.json` is 404 and the page asks). */
  modelPath?: string;
  /** The model's output in use (as `--output`). */
  output?: string;
}

/** The policy of the app's page (also in its `<meta>`): this origin only, wasm allowed. */
export const APP_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
  "connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; worker-src 'self' blob:; " +
  "base-uri 'none'; form-action 'none'";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json; charset=utf-8",
  wasm: "application/wasm",
  wgsl: "text/plain; charset=utf-8",
  onnx: "application/octet-stream",
};

/** Why a request under `/app` got no file: the status and a one-line message. */
export class AppError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The default app folder: `dist/web/` of the project (or of a binary built with it). */
export const DEFAULT_APP_ROOT: URL = new URL("../../dist/web/", import.meta.url);

/** The files of `/app`. */
export class AppFiles {
  #info: Promise<OriginModelInfo> | undefined;

  constructor(readonly config: AppConfig) {
    if (!config.root.href.endsWith("/")) {
      throw new Error(`--app: ${config.root.href} must end in /`);
    }
  }

  /** Whether the app is built (its index.html exists). */
  async built(): Promise<boolean> {
    try {
      return (await Deno.stat(new URL("index.html", this.config.root))).isFile;
    } catch {
      return false;
    }
  }

  /** Whether `rest` (the path after `/app/`) is the served model (the caller checks a token). */
  isModel(rest: string): boolean {
    return rest === "model.json" || rest === "model.onnx";
  }

  /**
   * The answer for `/app/<rest>` (`rest` = "" for the page): the body and its headers. Throws an
   * {@link AppError} (404 for anything missing or refused).
   */
  async file(rest: string): Promise<{ body: Uint8Array; headers: Record<string, string> }> {
    if (rest === "model.json" || rest === "model.onnx") return await this.#model(rest);
    const path = rest === "" ? "index.html" : rest;
    if (
      !/^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*(\/[A-Za-z0-9_\-][A-Za-z0-9_.\-]*)*$/.test(path) ||
      path.split("/").some((s) => s === ".." || s.startsWith("."))
    ) {
      throw new AppError(404, `no file /app/${rest}`);
    }
    let body: Uint8Array;
    try {
      body = await Deno.readFile(new URL(path, this.config.root));
    } catch {
      if (path === "index.html") {
        throw new AppError(
          404,
          "the browser app is not built: run `deno task web` (or pass --app DIR)",
        );
      }
      throw new AppError(404, `no file /app/${rest}`);
    }
    return { body, headers: headersFor(path) };
  }

  async #model(name: string): Promise<{ body: Uint8Array; headers: Record<string, string> }> {
    const path = this.config.modelPath;
    if (!path) {
      throw new AppError(404, "this server has no model file for the app: choose one in the page");
    }
    if (name === "model.onnx") {
      return { body: await Deno.readFile(path), headers: headersFor("model.onnx") };
    }
    this.#info ??= originModelInfo(path, { url: "model.onnx", output: this.config.output });
    this.#info.catch(() => this.#info = undefined);
    const info = await this.#info;
    return {
      body: new TextEncoder().encode(JSON.stringify(info)),
      headers: headersFor("model.json"),
    };
  }
}

function headersFor(path: string): Record<string, string> {
  const ext = path.slice(path.lastIndexOf(".") + 1);
  return {
    "content-type": TYPES[ext] ?? "application/octet-stream",
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "content-security-policy": APP_CSP,
  };
}
