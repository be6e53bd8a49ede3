/**
 * `fca serve` as a client meets it: every route and error class, answers equal to the CLI's for
 * the same image and options (map within 1e-6, numpy reads it), a full queue, timeouts, auth,
 * CORS and a graceful shutdown on SIGTERM.
 */
import assert from "node:assert/strict";
import jpeg from "../src/base/npm/jpeg_js.ts";
import { encodeImagePng } from "../src/io/encode.ts";
import { decodeGrayMask } from "../src/io/decode.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { decodeNpy } from "../src/io/npy.ts";
import { HAVE_MODEL, MODEL_PATH } from "./_shared.ts";
import { fcaChild, startServe } from "./_services.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

function texturePng(size: number, seed = 3): Uint8Array<ArrayBuffer> {
  return encodeImagePng(syntheticTexture(size, { seed, defect: true }).image);
}

function textureJpeg(size: number): Uint8Array<ArrayBuffer> {
  const { image } = syntheticTexture(size, { seed: 5, defect: true });
  const n = size * size, px = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) px[4 * i + c] = Math.round(image.data[c * n + i] * 255);
    px[4 * i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width: size, height: size, data: px }, 90).data);
}

function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function post(
  url: string,
  body: BodyInit | null,
  type = "image/png",
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, {
    method: "POST",
    body,
    headers: type ? { "content-type": type, ...headers } : headers,
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, json, headers: res.headers };
}

Deno.test({
  name: "serve: routes, CLI parity, every error class, queue, timeout, graceful shutdown",
  ignore: !HAVE_MODEL,
  ...opts,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "fca-serve-" });
    const png = texturePng(128);
    const garbage = new TextEncoder().encode("hello, not an image\n");
    await Deno.writeFile(`${dir}/tex.png`, png);
    await Deno.writeFile(`${dir}/bad.png`, garbage);
    const { child, url } = await startServe([
      "--backend",
      "cpu",
      "--queue",
      "2",
      "--max-body-mb",
      "1",
      "--max-pixels",
      "40000",
      "--max-variants",
      "1",
      "--io-workers",
      "1", // decoding and encoding on a thread (the browser test covers the inline path)
    ]);
    // The CLI on the same image (and a bad one), and with other options, meanwhile.
    const cli7 = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "mod.ts",
        `${dir}/tex.png`,
        "--out",
        `${dir}/cli7`,
        "--backend",
        "cpu",
        "--patch",
        "7",
        "--sigma-p",
        "2",
      ],
      cwd: new URL("..", import.meta.url).pathname,
      env: { FCA_MODEL: MODEL_PATH, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const cli = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "mod.ts",
        `${dir}/tex.png`,
        `${dir}/bad.png`,
        "--out",
        `${dir}/cli`,
        "--backend",
        "cpu",
      ],
      cwd: new URL("..", import.meta.url).pathname,
      env: { FCA_MODEL: MODEL_PATH, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    try {
      await t.step("GET /v1/health", async () => {
        const res = await fetch(`${url}/v1/health`);
        const h = await res.json();
        assert.equal(res.status, 200);
        assert.equal(h.ready, true);
        assert.equal(h.backend, "cpu");
        assert.match(h.adapter, /onnxruntime/);
        assert.match(h.model_sha256, /^[0-9a-f]{64}$/);
        assert.equal(res.headers.get("access-control-allow-origin"), null, "no CORS by default");
      });

      await t.step("GET / and its files; 404 elsewhere; 405 for a wrong method", async () => {
        const page = await fetch(`${url}/`);
        assert.equal(page.status, 200);
        assert.match(page.headers.get("content-type")!, /text\/html/);
        assert.match(await page.text(), /<script type="module" src="\/app.js">/);
        for (const f of ["/app.js", "/style.css"]) {
          const r = await fetch(`${url}${f}`);
          assert.equal(r.status, 200, f);
          await r.body?.cancel();
        }
        const missing = await fetch(`${url}/etc/passwd`);
        assert.equal(missing.status, 404);
        await missing.body?.cancel();
        const get = await fetch(`${url}/v1/detect`);
        assert.equal(get.status, 405);
        await get.body?.cancel();
      });

      const out = await cli;
      const cliLines = new TextDecoder().decode(out.stdout).trim().split("\n");
      const cliErr = new TextDecoder().decode(out.stderr).trim().split("\n")
        .filter((l) => l.startsWith("error:"));
      assert.equal(cliLines.length, 1, new TextDecoder().decode(out.stderr));
      const line = JSON.parse(cliLines[0]);

      // The image score (relative under the default preset) and the map's peak (map units).
      let score = 0, peak = 0;
      await t.step(
        "POST /v1/detect equals the CLI's line and outputs; numpy reads the map",
        async () => {
          const r = await post(`${url}/v1/detect?include=heatmap,overlay,map`, png);
          assert.equal(r.status, 200, JSON.stringify(r.json));
          const { outputs, ...fields } = r.json;
          const { path: _p, outputs: _o, ...cliFields } = line;
          assert.deepEqual(Object.keys(fields), Object.keys(cliFields));
          for (const k of ["width", "height", "score", "tiles", "backend", "adapter"]) {
            assert.deepEqual(fields[k], cliFields[k], k);
          }
          score = fields.score;
          const cliStages = Object.keys(cliFields.ms).filter((k) => k !== "write");
          assert.deepEqual(Object.keys(fields.ms).filter((k) => k !== "encode"), cliStages);
          const npy = fromBase64(outputs.map);
          const map = decodeNpy(npy), cliMap = decodeNpy(await Deno.readFile(line.outputs.npy));
          peak = Math.max(...cliMap.data);
          assert.deepEqual(map.shape, cliMap.shape);
          let err = 0;
          for (let i = 0; i < map.data.length; i++) {
            err = Math.max(err, Math.abs(map.data[i] - cliMap.data[i]));
          }
          assert.ok(err <= 1e-6, `map differs by ${err}`);
          assert.deepEqual(fromBase64(outputs.heatmap), await Deno.readFile(line.outputs.heatmap));
          assert.deepEqual(fromBase64(outputs.overlay), await Deno.readFile(line.outputs.overlay));
          await Deno.writeFile(`${dir}/served.npy`, npy);
          const py = await new Deno.Command("python3", {
            args: [
              "-c",
              "import sys, numpy; a = numpy.load(sys.argv[1]); print(a.dtype, a.shape, repr(float(a.max())))",
              `${dir}/served.npy`,
            ],
            stdout: "piped",
            stderr: "piped",
          }).output().catch(() => undefined);
          if (!py || /No module named/.test(new TextDecoder().decode(py.stderr))) {
            console.warn("numpy not installed: the served map is read by decodeNpy only");
            return;
          }
          assert.equal(py.code, 0, new TextDecoder().decode(py.stderr));
          const [dtype, ...rest] = new TextDecoder().decode(py.stdout).trim().split(" ");
          assert.equal(dtype, "float32");
          assert.equal(rest.slice(0, 2).join(" "), "(128, 128)");
          assert.equal(Number(rest[2]), Math.max(...cliMap.data), "numpy reads the same maximum");
        },
      );

      await t.step("JPEG body, multipart body", async () => {
        const j = await post(`${url}/v1/detect`, textureJpeg(128), "image/jpeg");
        assert.equal(j.status, 200, JSON.stringify(j.json));
        assert.equal(j.json.width, 128);
        const form = new FormData();
        form.append("image", new Blob([png], { type: "image/png" }), "tex.png");
        const m = await post(`${url}/v1/detect`, form, "");
        assert.equal(m.status, 200, JSON.stringify(m.json));
        assert.equal(m.json.score, score);
        assert.equal(m.json.outputs, undefined);
      });

      await t.step("threshold and min_area: verdict, regions, mask", async () => {
        const threshold = peak * 0.7;
        const r = await post(
          `${url}/v1/detect?threshold=${threshold}&min_area=4&include=mask,map`,
          png,
        );
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.deepEqual(r.json.threshold, { value: threshold, source: "explicit" });
        assert.equal(r.json.verdict, "defect");
        assert.ok(r.json.regions.length >= 1);
        assert.ok(r.json.regions.every((g: { area: number }) => g.area >= 4));
        const mask = decodeGrayMask(fromBase64(r.json.outputs.mask));
        const map = decodeNpy(fromBase64(r.json.outputs.map)).data;
        const area = r.json.regions.reduce((s: number, g: { area: number }) => s + g.area, 0);
        assert.equal(mask.data.filter((v) => v === 255).length, area);
        for (let i = 0; i < map.length; i++) if (mask.data[i]) assert.ok(map[i] > threshold);
        const ok = await post(`${url}/v1/detect?threshold=${peak * 2}`, png);
        assert.equal(ok.json.verdict, "ok");
        assert.deepEqual(ok.json.regions, []);
        // Without a threshold the zero-shot one decides, as on the command line.
        const zero = await post(`${url}/v1/detect?include=mask`, png);
        assert.equal(zero.json.threshold.source, "zero-shot");
        assert.ok(zero.json.outputs.mask.length > 0);
      });

      await t.step("pipeline options as query parameters (variant detectors)", async () => {
        // With --max-variants 1 the second variant evicts the first while it may still be in use.
        const [a, b, c] = await Promise.all(
          ["patch=7&sigma-p=2&include=map", "patch=5", "patch=7&sigma-p=2"].map((q) =>
            post(`${url}/v1/detect?${q}`, png)
          ),
        );
        for (const r of [a, b, c]) assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.notEqual(a.json.score, score);
        assert.notEqual(b.json.score, a.json.score);
        assert.equal(c.json.score, a.json.score);
        // Equal to the CLI with the same options.
        const line7 = JSON.parse(new TextDecoder().decode((await cli7).stdout).trim());
        assert.equal(a.json.score, line7.score);
        const map7 = decodeNpy(fromBase64(a.json.outputs.map)).data;
        const cliMap7 = decodeNpy(await Deno.readFile(line7.outputs.npy)).data;
        let err = 0;
        for (let i = 0; i < map7.length; i++) err = Math.max(err, Math.abs(map7[i] - cliMap7[i]));
        assert.ok(err <= 1e-6, `map differs by ${err}`);
      });

      await t.step(
        "bad input: 400 with the CLI's message, 413, 415, 400 for bad options",
        async () => {
          const bad = await post(`${url}/v1/detect`, garbage);
          assert.equal(bad.status, 400);
          // The CLI prints "error: <path>: <cause>"; the server names the upload "image".
          const cause = cliErr[0].replace(`error: ${dir}/bad.png: `, "");
          assert.equal(bad.json.error, `image: ${cause}`);
          const cut = await post(`${url}/v1/detect`, png.subarray(0, png.length >> 1));
          assert.equal(cut.status, 400);
          assert.match(cut.json.error, /^image: (truncated|corrupt) PNG/);
          // Too small for one patch at the paper's fixed scale (the default enlarges it).
          const tiny = await post(`${url}/v1/detect?preset=paper`, texturePng(40));
          assert.equal(tiny.status, 400);
          assert.match(tiny.json.error, /smaller than one 9x9 patch/);
          const big = await post(`${url}/v1/detect`, new Uint8Array(1.5 * (1 << 20)));
          assert.equal(big.status, 413);
          assert.match(big.json.error, /larger than the server's limit/);
          const huge = await post(`${url}/v1/detect`, texturePng(256));
          assert.equal(huge.status, 413);
          assert.match(huge.json.error, /256x256 pixels, more than the server's limit of 40000/);
          const text = await post(`${url}/v1/detect`, "hello", "text/plain");
          assert.equal(text.status, 415);
          const none = await post(`${url}/v1/detect`, png, "");
          assert.equal(none.status, 415);
          const form = new FormData();
          form.append("a", new Blob([png], { type: "image/png" }), "a.png");
          form.append("b", new Blob([png], { type: "image/png" }), "b.png");
          const two = await post(`${url}/v1/detect`, form, "");
          assert.equal(two.status, 400);
          assert.match(two.json.error, /exactly one file, got 2/);
          const gif = new FormData();
          gif.append("a", new Blob([png], { type: "image/gif" }), "a.gif");
          assert.equal((await post(`${url}/v1/detect`, gif, "")).status, 415);
          for (
            const [query, pattern] of [
              ["patch=4", /--patch must be an odd integer/],
              ["stats=nope", /--stats must be one of/],
              ["stats=hist&reference=random", /does not take --reference random/],
              ["model=/etc/passwd", /--model is set when the server starts/],
              ["backend=webgpu", /--backend is set when the server starts/],
              ["bogus=1", /unknown query parameter 'bogus'/],
              ["threshold=abc", /threshold must be a number/],
              ["threshold=1&min_area=0.5", /min_area must be an integer/],
              ["include=secrets", /include must list/],
              ["timeout_ms=0", /timeout_ms must be an integer/],
            ] as [string, RegExp][]
          ) {
            const r = await post(`${url}/v1/detect?${query}`, png);
            assert.equal(r.status, 400, query);
            assert.match(r.json.error, pattern, query);
            assert.equal(r.json.error.split("\n").length, 1);
          }
        },
      );

      await t.step("per-request timeout: 504", async () => {
        const r = await post(`${url}/v1/detect?timeout_ms=1`, png);
        assert.equal(r.status, 504);
        assert.match(r.json.error, /timed out after 1 ms/);
      });

      await t.step("a client that goes away is dropped (499 in the metrics)", async () => {
        const first = post(`${url}/v1/detect`, png);
        const ctl = new AbortController();
        const gone = fetch(`${url}/v1/detect`, {
          method: "POST",
          body: png,
          headers: { "content-type": "image/png" },
          signal: ctl.signal,
        });
        gone.catch(() => {});
        await new Promise((r) => setTimeout(r, 50));
        ctl.abort();
        await assert.rejects(gone);
        assert.equal((await first).status, 200);
        let text = "";
        for (let i = 0; i < 100 && !/status="499"\} 1/.test(text); i++) {
          await new Promise((r) => setTimeout(r, 50));
          text = await (await fetch(`${url}/metrics`)).text();
        }
        assert.match(text, /^fca_http_requests_total\{route="\/v1\/detect",status="499"\} 1$/m);
      });

      await t.step("a full queue answers 503 with Retry-After, the rest 200", async () => {
        // The timed-out detection above still holds the detector until it ends: wait for it.
        for (let i = 0; i < 100; i++) {
          const h = await (await fetch(`${url}/v1/health`)).json();
          if (h.in_flight === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const all = await Promise.all(
          Array.from({ length: 7 }, () => post(`${url}/v1/detect`, png)),
        );
        const statuses = all.map((r) => r.status).sort();
        assert.ok(statuses.every((s) => s === 200 || s === 503), String(statuses));
        assert.ok(statuses.filter((s) => s === 200).length >= 3, String(statuses));
        const busy = all.find((r) => r.status === 503);
        assert.ok(busy, `no 503 among ${statuses}`);
        assert.match(busy.headers.get("retry-after")!, /^\d+$/);
        for (const r of all) if (r.status === 200) assert.equal(r.json.score, score);
      });

      await t.step("GET /metrics", async () => {
        const res = await fetch(`${url}/metrics`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type")!, /^text\/plain; version=0.0.4/);
        const text = await res.text();
        for (
          const re of [
            /^fca_http_requests_total\{route="\/v1\/detect",status="200"\} \d+$/m,
            /^fca_http_requests_total\{route="\/v1\/detect",status="503"\} \d+$/m,
            /^fca_http_requests_total\{route="\/v1\/detect",status="415"\} 3$/m,
            /^fca_detect_duration_seconds_bucket\{le="\+Inf"\} \d+$/m,
            /^fca_detect_duration_seconds_count \d+$/m,
            /^fca_queue_depth 0$/m,
            /^fca_in_flight 0$/m,
            /^fca_images_per_second [\d.]+$/m,
            /^process_resident_memory_bytes \d+$/m,
          ]
        ) assert.match(text, re);
      });

      await t.step("SIGTERM: the request in flight finishes, then exit 0", async () => {
        const inFlight = post(`${url}/v1/detect`, png);
        await new Promise((r) => setTimeout(r, 150));
        child.kill("SIGTERM");
        const r = await inFlight;
        assert.equal(r.status, 200);
        assert.equal(r.json.score, score);
        assert.equal((await child.status).code, 0, child.lines.join("\n"));
        await child.waitFor(/fca serve: stopped/, 1000);
        await assert.rejects(fetch(`${url}/v1/health`));
      });
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "serve: bearer token on /v1 and /metrics (401), CORS only for --cors",
  ...opts,
  async fn() {
    const origin = "http://app.example";
    const { child, url } = await startServe(
      ["--features", "colors", "--backend", "cpu", "--threads", "1", "--cors", origin],
      { FCA_TOKEN: "s3cret-token" },
    );
    try {
      const png = texturePng(48);
      for (const path of ["/v1/health", "/metrics"]) {
        for (
          const auth of [undefined, "Bearer wrong", "Bearer s3cret-toke", "Basic s3cret-token"]
        ) {
          const res = await fetch(`${url}${path}`, {
            headers: auth ? { authorization: auth } : {},
          });
          assert.equal(res.status, 401, `${path} ${auth}`);
          assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="fca"');
          await res.body?.cancel();
        }
        const ok = await fetch(`${url}${path}`, {
          headers: { authorization: "Bearer s3cret-token" },
        });
        assert.equal(ok.status, 200, path);
        assert.equal(ok.headers.get("access-control-allow-origin"), origin);
        await ok.body?.cancel();
      }
      const denied = await post(`${url}/v1/detect`, png);
      assert.equal(denied.status, 401);
      const r = await post(`${url}/v1/detect`, png, "image/png", {
        authorization: "Bearer s3cret-token",
      });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const page = await fetch(`${url}/`); // the page itself is public; its API calls are not
      assert.equal(page.status, 200);
      await page.body?.cancel();
      const pre = await fetch(`${url}/v1/detect`, { method: "OPTIONS" });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get("access-control-allow-origin"), origin);
      assert.match(pre.headers.get("access-control-allow-headers")!, /authorization/);
      await pre.body?.cancel();
    } finally {
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
      await child.stdout();
    }
  },
});

Deno.test({
  name: "serve: usage errors are one line, exit 2",
  ...opts,
  async fn() {
    for (
      const [args, re] of [
        [["--port", "70000"], /--port must be an integer in \[0, 65535\]/],
        [["--patch", "4"], /--patch must be an odd integer/],
        [["extra.png"], /serve takes no inputs/],
      ] as [string[], RegExp][]
    ) {
      const c = fcaChild("serve", ["serve", ...args]);
      const status = await c.status;
      await c.stdout();
      assert.equal(status.code, 2, args.join(" "));
      const errors = c.lines.filter((l) => l.startsWith("error:"));
      assert.equal(errors.length, 1);
      assert.match(errors[0], re);
    }
  },
});
