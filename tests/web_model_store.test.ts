/**
 * Where the browser app's model comes from (web/model_store.ts), with Deno's own Cache API and a
 * local origin: downloaded once and kept under its sha256, then read from the cache; a model
 * whose bytes do not match model.json is refused; an origin without a model (404) or behind a
 * token (401) leaves the choice to the user; a chosen file is kept and remembered.
 */
import assert from "node:assert/strict";
import { sha256Bytes } from "../src/features/manifest.ts";
import type { ModelManifest } from "../src/features/manifest.ts";
import type { OriginModelInfo } from "../src/features/model_info.ts";
import { fileModel, ModelStore, originModel } from "../web/model_store.ts";
import { rng } from "./_shared.ts";

const BASE = new URL("http://127.0.0.1/app/");

/** A CacheStorage whose one cache is private to this test run. */
function privateStorage(): CacheStorage & { drop(): Promise<boolean> } {
  const name = `fca-models-test-${crypto.randomUUID()}`;
  return {
    open: () => caches.open(name),
    drop: () => caches.delete(name),
  } as unknown as CacheStorage & { drop(): Promise<boolean> };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed), out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

const ENTRY: ModelManifest = {
  file: "m.onnx",
  input: "input",
  output: "features",
  stride: 8,
  channels: 512,
  normalisation: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
};

/** A local origin serving `model.json` (as given, or 404/401) and the model; logs requests. */
function origin(model: Uint8Array, info: (base: string) => OriginModelInfo | number) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    if (path === "/app/model.json") {
      const i = info(`http://127.0.0.1:${server.addr.port}`);
      return typeof i === "number" ? new Response("no", { status: i }) : Response.json(i);
    }
    if (path === "/app/m.onnx") return new Response(model as Uint8Array<ArrayBuffer>);
    return new Response("not found", { status: 404 });
  });
  return { server, base: new URL(`http://127.0.0.1:${server.addr.port}/app/`), requests };
}

Deno.test("model store: kept under its sha256 with name and entry; a corrupt entry is dropped", async () => {
  const storage = privateStorage();
  try {
    const store = await ModelStore.open(BASE, storage);
    assert.equal(store.persistent, true);
    const bytes = randomBytes(5000, 1), sha = await sha256Bytes(bytes);
    assert.equal(await store.get(sha), undefined);
    assert.equal(await store.last(), undefined);
    await store.put({ bytes, name: "m.onnx", sha256: sha, from: "file", entry: ENTRY });
    const kept = await store.get(sha);
    assert.deepEqual(kept?.bytes, bytes);
    assert.equal(kept?.name, "m.onnx");
    assert.equal(kept?.from, "cache");
    assert.equal(kept?.entry?.stride, 8);
    assert.equal((await store.last())?.sha256, sha);
    // Another file stored under that key (disk corruption, or tampering): not used, dropped.
    const cache = await storage.open("");
    await cache.put(new URL(`fca-model-cache/${sha}.onnx`, BASE).href, new Response("bad"));
    assert.equal(await store.get(sha), undefined);
    assert.equal(await cache.match(new URL(`fca-model-cache/${sha}.onnx`, BASE).href), undefined);
    assert.equal(await store.get("not-a-sha"), undefined);
  } finally {
    await storage.drop();
  }
});

Deno.test("model store: the origin's model is downloaded once, checked, then read from the cache", async () => {
  const storage = privateStorage();
  const model = randomBytes(300_000, 2), sha = await sha256Bytes(model);
  const o = origin(model, () => ({
    file: "resnet.onnx",
    url: "m.onnx",
    sha256: sha,
    size: model.length,
    entry: ENTRY,
  }));
  try {
    const store = await ModelStore.open(o.base, storage);
    const progress: number[] = [];
    const first = await originModel(o.base, store, (loaded, total) => {
      assert.equal(total, model.length);
      progress.push(loaded);
    });
    assert.equal(first?.from, "origin");
    assert.equal(first?.name, "resnet.onnx");
    assert.equal(first?.sha256, sha);
    assert.deepEqual(first?.bytes, model);
    assert.equal(progress.at(-1), model.length);
    const again = await originModel(o.base, store);
    assert.equal(again?.from, "cache");
    assert.deepEqual(again?.bytes, model);
    assert.equal(again?.entry?.channels, 512);
    assert.deepEqual(o.requests, ["/app/model.json", "/app/m.onnx", "/app/model.json"]);
    assert.equal((await store.last())?.sha256, sha);
  } finally {
    await o.server.shutdown();
    await storage.drop();
  }
});

Deno.test("model store: wrong bytes, wrong size, another origin are refused; 404 and 401 mean none", async () => {
  const model = randomBytes(1000, 3), sha = await sha256Bytes(model);
  let info: (base: string) => OriginModelInfo | number = () => 404;
  const o = origin(model, (b) => info(b));
  const store = await ModelStore.open(o.base, null); // keeps nothing
  assert.equal(store.persistent, false);
  try {
    const good = { file: "m.onnx", url: "m.onnx", sha256: sha, size: model.length };
    assert.equal(await originModel(o.base, store), undefined);
    info = () => 401;
    assert.equal(await originModel(o.base, store), undefined);
    info = () => ({ ...good, sha256: "0".repeat(64) });
    await assert.rejects(
      originModel(o.base, store),
      (e: Error) =>
        e.message === `m.onnx: sha256 ${sha} differs from model.json's ${"0".repeat(64)}`,
    );
    info = () => ({ ...good, size: 999 });
    await assert.rejects(originModel(o.base, store), /larger than the 999 bytes model\.json gives/);
    info = () => ({ ...good, size: 1001 });
    await assert.rejects(originModel(o.base, store), /1000 bytes, model\.json gives 1001/);
    info = () => ({ ...good, url: "http://example.com/m.onnx" });
    await assert.rejects(originModel(o.base, store), /must come from this origin/);
    info = () => ({ ...good, sha256: "xyz" });
    await assert.rejects(originModel(o.base, store), /'sha256' must be 64 lower-case hex digits/);
    info = () => 500;
    await assert.rejects(originModel(o.base, store), /^Error: model\.json: HTTP 500$/);
    // Without a cache, every visit downloads again (and still checks the bytes).
    info = () => good;
    assert.equal((await originModel(o.base, store))?.from, "origin");
    assert.equal((await originModel(o.base, store))?.from, "origin");
  } finally {
    await o.server.shutdown();
  }
});

Deno.test("model store: a chosen file must be .onnx; it is kept and remembered", async () => {
  const storage = privateStorage();
  try {
    const store = await ModelStore.open(BASE, storage);
    const bytes = randomBytes(2000, 4);
    await assert.rejects(fileModel(bytes, "photo.png", store), /photo\.png: choose an ONNX model/);
    const m = await fileModel(bytes, "mine.onnx", store);
    assert.equal(m.from, "file");
    assert.equal(m.sha256, await sha256Bytes(bytes));
    const last = await store.last();
    assert.equal(last?.name, "mine.onnx");
    assert.deepEqual(last?.bytes, bytes);
  } finally {
    await storage.drop();
  }
});
