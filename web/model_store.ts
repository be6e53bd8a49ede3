/**
 * Where the page's backbone comes from: the serving origin (`model.json` describing
 * `model.onnx`, written by `deno task web` and answered by `mod.ts serve`), a file the user
 * chooses once, and the browser's Cache API, which keeps every model loaded so far keyed by its
 * sha256 (and which one was used last), so a model is downloaded or chosen only once.
 *
 * Every request stays on the page's own origin. The Cache API and Web Crypto exist only in
 * secure contexts (https, localhost): elsewhere models are used without being cached.
 * @module
 */
import { parseManifestEntry, sha256Bytes } from "../src/features/manifest.ts";
import type { OriginModelInfo } from "../src/features/model_info.ts";
import type { ModelBytes } from "../src/pipeline/feature_sources.ts";

/** A model ready for the detector, with its identity and where it came from. */
export interface PageModel extends ModelBytes {
  /** Hex sha256 of `bytes` ("" where Web Crypto is unavailable). */
  sha256: string;
  /** Where the bytes came from this time. */
  from: "origin" | "cache" | "file";
}

/** Name of the Cache API cache holding the models. */
export const MODEL_CACHE = "fca-models";

/** Models kept in the Cache API, keyed by sha256; `last` remembers the one used last. */
export class ModelStore {
  private constructor(private readonly cache: Cache | undefined, private readonly base: URL) {}

  /**
   * The store of this page: `caches` where the browser offers it (secure contexts), else (or
   * with `storage` null) a store that keeps nothing. `base` is the page's URL: the cache keys
   * live under it and are never fetched.
   */
  static async open(
    base: URL,
    storage: CacheStorage | null = globalThis.caches ?? null,
  ): Promise<ModelStore> {
    let cache: Cache | undefined;
    try {
      cache = storage && globalThis.crypto?.subtle ? await storage.open(MODEL_CACHE) : undefined;
    } catch {
      cache = undefined; // e.g. storage blocked by the browser's settings
    }
    return new ModelStore(cache, base);
  }

  /** Whether models are kept (a secure context with the Cache API). */
  get persistent(): boolean {
    return this.cache !== undefined;
  }

  private key(name: string): string {
    return new URL(`fca-model-cache/${name}`, this.base).href;
  }

  /** The model of sha256 `sha`, when kept and intact (a corrupt entry is dropped). */
  async get(sha: string): Promise<PageModel | undefined> {
    if (!this.cache || !/^[0-9a-f]{64}$/.test(sha)) return undefined;
    const res = await this.cache.match(this.key(`${sha}.onnx`));
    if (!res) return undefined;
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (await sha256Bytes(bytes) !== sha) {
      await this.cache.delete(this.key(`${sha}.onnx`));
      return undefined;
    }
    const name = res.headers.get("x-fca-name") ?? "model.onnx";
    const entryText = res.headers.get("x-fca-entry");
    const entry = entryText ? checkedEntry(JSON.parse(entryText), name) : undefined;
    return { bytes, name, sha256: sha, from: "cache", ...(entry ? { entry } : {}) };
  }

  /** Keep `model` (under its sha256) and remember it as the last one used. */
  async put(model: PageModel): Promise<void> {
    if (!this.cache || !model.sha256) return;
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "x-fca-name": model.name,
    };
    if (model.entry) headers["x-fca-entry"] = JSON.stringify(model.entry);
    await this.cache.put(
      this.key(`${model.sha256}.onnx`),
      new Response(model.bytes as Uint8Array<ArrayBuffer>, { headers }),
    );
    await this.remember(model.sha256);
  }

  /** Remember `sha` as the model used last. */
  async remember(sha: string): Promise<void> {
    if (!this.cache) return;
    await this.cache.put(this.key("last.json"), Response.json({ sha256: sha }));
  }

  /** The model used last, when still kept. */
  async last(): Promise<PageModel | undefined> {
    if (!this.cache) return undefined;
    const res = await this.cache.match(this.key("last.json"));
    if (!res) return undefined;
    const sha = (await res.json().catch(() => ({})) as { sha256?: unknown }).sha256;
    return typeof sha === "string" ? await this.get(sha) : undefined;
  }
}

/**
 * The serving origin's model: `model.json` next to the page, then the model from the cache or,
 * the first time, from its `url` (its sha256 checked, then kept). Undefined when the origin
 * serves no model (404) or keeps it behind a token (401, 403).
 */
export async function originModel(
  base: URL,
  store: ModelStore,
  onProgress?: (loaded: number, total: number) => void,
): Promise<PageModel | undefined> {
  const infoUrl = new URL("model.json", base);
  const res = await fetch(infoUrl, { cache: "no-cache" });
  if (res.status === 404 || res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) throw new Error(`model.json: HTTP ${res.status}`);
  const info = checkInfo(await res.json(), infoUrl.href);
  const entry = info.entry === undefined ? undefined : checkedEntry(info.entry, info.file);
  const kept = await store.get(info.sha256);
  if (kept) {
    await store.remember(info.sha256);
    return { ...kept, name: info.file, ...(entry ? { entry } : {}) };
  }
  const modelUrl = new URL(info.url, infoUrl);
  if (modelUrl.origin !== new URL(base).origin) {
    throw new Error(`model.json: the model must come from this origin, not ${modelUrl.origin}`);
  }
  const bytes = await download(modelUrl, info.size, onProgress);
  const sha = globalThis.crypto?.subtle ? await sha256Bytes(bytes) : "";
  if (sha && sha !== info.sha256) {
    throw new Error(`${info.url}: sha256 ${sha} differs from model.json's ${info.sha256}`);
  }
  const model: PageModel = {
    bytes,
    name: info.file,
    sha256: sha,
    from: "origin",
    ...(entry ? { entry } : {}),
  };
  await store.put(model);
  return model;
}

/** A model file the user chose: hashed and kept, so the next visit finds it in the cache. */
export async function fileModel(
  bytes: Uint8Array,
  name: string,
  store: ModelStore,
): Promise<PageModel> {
  if (!/\.onnx$/i.test(name)) throw new Error(`${name}: choose an ONNX model file (.onnx)`);
  const sha = globalThis.crypto?.subtle ? await sha256Bytes(bytes) : "";
  const model: PageModel = { bytes, name, sha256: sha, from: "file" };
  await store.put(model);
  return model;
}

/** The body of `url`, reporting progress; one line naming the URL on failure. */
async function download(
  url: URL,
  size: number,
  onProgress?: (loaded: number, total: number) => void,
): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`${url.pathname}: HTTP ${res.status}`);
  }
  const out = new Uint8Array(size);
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > size) {
      await reader.cancel();
      throw new Error(`${url.pathname}: larger than the ${size} bytes model.json gives`);
    }
    out.set(value, loaded);
    loaded += value.length;
    onProgress?.(loaded, size);
  }
  if (loaded !== size) {
    throw new Error(`${url.pathname}: ${loaded} bytes, model.json gives ${size}`);
  }
  return out;
}

/** model.json's fields, checked (one line naming the field); `entry` is checked by its user. */
function checkInfo(
  json: unknown,
  where: string,
): Omit<OriginModelInfo, "entry"> & { entry?: unknown } {
  const o = json as Record<string, unknown>;
  if (typeof o !== "object" || o === null) throw new Error(`${where}: expected an object`);
  const str = (k: string) => {
    if (typeof o[k] !== "string" || o[k] === "") {
      throw new Error(`${where}: '${k}' must be a string`);
    }
    return o[k] as string;
  };
  const sha256 = str("sha256");
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new Error(`${where}: 'sha256' must be 64 lower-case hex digits`);
  }
  const size = o.size;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
    throw new Error(`${where}: 'size' must be a positive integer`);
  }
  return { file: str("file"), url: str("url"), sha256, size, entry: o.entry };
}

/** A manifest entry from model.json or the cache, validated as a sidecar is. */
function checkedEntry(json: unknown, file: string) {
  return parseManifestEntry(json, `model.json entry of ${file}`, file);
}
