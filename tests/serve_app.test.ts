/**
 * `/app` of the service, in process (a hand-crafted-feature detector, no model to load): the
 * built app's files with the page's CSP, the redirect that makes its relative URLs work, only
 * plain paths inside the folder, the server's model behind the token when there is one, and
 * one-line answers when the app is not built or there is no model.
 */
import assert from "node:assert/strict";
import { DetectorPool } from "../src/serve/detectors.ts";
import { FcaService, type ServeConfig } from "../src/serve/server.ts";
import { APP_CSP, type AppConfig } from "../src/serve/app_files.ts";
import { originModelInfo } from "../src/features/model_info.ts";
import {
  encodeModel,
  makeFloatTensor,
  makeModel,
  makeNode,
  makeValueInfo,
} from "../src/features/onnx_proto.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function service(app: AppConfig | undefined, token?: string) {
  const pool = await DetectorPool.create({ features: "colors", backend: "cpu", threads: "1" }, 0);
  const config: ServeConfig = {
    host: "127.0.0.1",
    port: 0,
    queue: 1,
    maxBodyBytes: 1 << 20,
    maxPixels: 1 << 20,
    timeoutMs: 10_000,
    ioWorkers: 0,
    ...(token ? { token } : {}),
    ...(app ? { app } : {}),
  };
  const s = await FcaService.create(pool, config);
  return {
    get: (path: string, init: RequestInit = {}) =>
      s.handle(new Request(`http://127.0.0.1${path}`, init)),
    metrics: () => s.metrics.render({ queueDepth: 0, inFlight: 0, ready: true }),
    async close() {
      s.codec.dispose();
      await pool.dispose();
    },
  };
}

/** A built app in a temporary folder, and a small ONNX model beside it. */
async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "fca-app-" });
  await Deno.mkdir(`${dir}/app/kernels/lib`, { recursive: true });
  await Deno.writeTextFile(`${dir}/app/index.html`, "<!doctype html><title>app</title>");
  await Deno.writeTextFile(`${dir}/app/main.js`, "export {};\n");
  await Deno.writeTextFile(`${dir}/app/kernels/lib/x.wgsl`, "fn x() {}\n");
  await Deno.writeTextFile(`${dir}/app/.fca-web-build`, "marker\n");
  await Deno.writeTextFile(`${dir}/secret.txt`, "outside the app\n");
  const model = encodeModel(makeModel({
    node: [makeNode("Mul", ["img", "w"], ["out"])],
    initializer: [makeFloatTensor("w", [1], new Float32Array([2]))],
    input: [makeValueInfo("img", ["n", 3, "h", "w"])],
    output: [makeValueInfo("out", ["n", 3, "h", "w"])],
    valueInfo: [],
    unknown: [],
  }));
  await Deno.writeFile(`${dir}/tiny.onnx`, model);
  return { dir, root: new URL(`file://${dir}/app/`), modelPath: `${dir}/tiny.onnx`, model };
}

Deno.test({
  name: "serve /app: the built files with the page's policy, plain paths only",
  ...opts,
  async fn() {
    const f = await fixture();
    const s = await service({ root: f.root, modelPath: f.modelPath });
    try {
      const redirect = await s.get("/app?size=128");
      assert.equal(redirect.status, 308);
      assert.equal(redirect.headers.get("location"), "/app/?size=128");
      const page = await s.get("/app/");
      assert.equal(page.status, 200);
      assert.equal(await page.text(), "<!doctype html><title>app</title>");
      assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(page.headers.get("content-security-policy"), APP_CSP);
      assert.match(APP_CSP, /connect-src 'self'/);
      const wgsl = await s.get("/app/kernels/lib/x.wgsl");
      assert.equal(await wgsl.text(), "fn x() {}\n");
      const head = await s.get("/app/main.js", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), "11");
      assert.equal(head.headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.equal(await head.text(), "");
      for (
        const path of [
          "/app/.fca-web-build",
          "/app/%2e%2e/secret.txt",
          "/app/kernels/../../secret.txt",
          "/app/nope.js",
          "/app/kernels/",
          "/app/kernels",
          "/app//main.js",
        ]
      ) {
        const res = await s.get(path);
        assert.equal(res.status, 404, path);
        assert.match((await res.json()).error, /^no (file|route) /, path);
      }
      const post = await s.get("/app/", { method: "POST", body: "x" });
      assert.equal(post.status, 405);
      await post.body?.cancel();
      // Without a token the model is public, as the page is.
      const info = await s.get("/app/model.json");
      assert.deepEqual(
        await info.json(),
        await originModelInfo(f.modelPath, { url: "model.onnx" }),
      );
      const bytes = new Uint8Array(await (await s.get("/app/model.onnx")).arrayBuffer());
      assert.deepEqual(bytes, f.model);
      assert.match(s.metrics(), /fca_http_requests_total\{route="\/app",status="200"\} \d+/);
    } finally {
      await s.close();
      await Deno.remove(f.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "serve /app: the model needs the token when there is one; the page does not",
  ...opts,
  async fn() {
    const f = await fixture();
    const s = await service({ root: f.root, modelPath: f.modelPath }, "s3cret");
    try {
      assert.equal((await s.get("/app/")).status, 200);
      for (const path of ["/app/model.json", "/app/model.onnx"]) {
        const denied = await s.get(path);
        assert.equal(denied.status, 401, path);
        await denied.body?.cancel();
        const ok = await s.get(path, { headers: { authorization: "Bearer s3cret" } });
        assert.equal(ok.status, 200, path);
        await ok.body?.cancel();
      }
    } finally {
      await s.close();
      await Deno.remove(f.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "serve /app: not built, no model, not configured: one-line answers",
  ...opts,
  async fn() {
    const f = await fixture();
    const empty = new URL(`file://${f.dir}/empty/`);
    await Deno.mkdir(`${f.dir}/empty`);
    const s = await service({ root: empty });
    const none = await service(undefined);
    try {
      const page = await s.get("/app/");
      assert.equal(page.status, 404);
      assert.equal(
        (await page.json()).error,
        "the browser app is not built: run `deno task web` (or pass --app DIR)",
      );
      const model = await s.get("/app/model.json");
      assert.equal(model.status, 404);
      assert.match((await model.json()).error, /^this server has no model file for the app/);
      const off = await none.get("/app/");
      assert.equal(off.status, 404);
      assert.equal((await off.json()).error, "no route /app/");
    } finally {
      await s.close();
      await none.close();
      await Deno.remove(f.dir, { recursive: true });
    }
  },
});
