/**
 * The browser app in a real browser: Debian's chromium (headless, `--enable-unsafe-webgpu`: a
 * SwiftShader WebGPU adapter where there is no GPU), driven by playwright-core, loads the app
 * built by `deno task web` from `mod.ts serve` at `/app`, with the server's model. `fcaDetect`
 * on the demo texture and on a real steel image gives the CLI's map for the same bytes and
 * options (`--size 128 --backend webgpu`: the page runs the webgpu backend) within 1e-4 of the
 * map's range, and the cpu backend's within the 1e-3 that holds between the two backends (their
 * ONNX runtimes round differently; FCA's rank matching amplifies that where values nearly tie:
 * the CLI's own webgpu and cpu maps of the steel image differ by 3e-4 of the range). The page
 * itself shows and downloads the same result; the model is kept in the browser; a plain static
 * host serves the same folder, model included; without WebGPU the page says so; and no request
 * leaves the page's origin. A screenshot goes to a temporary file, or to docs/web.png with
 * FCA_UPDATE_SCREENSHOT=1.
 *
 * Small images at an explicit working size (`--size 128`, both here and for the CLI) keep the
 * software adapter's run to about 20-40 s per image (two minutes for the whole test).
 */
import assert from "node:assert/strict";
import { chromium } from "../src/base/npm/playwright_core.ts";
import { encodeImagePng } from "../src/io/encode.ts";
import { decodeNpy, readNpy } from "../src/io/npy.ts";
import { decodeImage } from "../src/io/decode.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { buildWeb } from "../web/build.ts";
import {
  exists,
  HAVE_MODEL,
  MODEL_PATH,
  relativeMaxError,
  REQUIRE_GPU,
  SHARED_DIR,
  skipWithoutGpu,
  skipWithoutShared,
} from "./_shared.ts";
import { fcaChild, startServe } from "./_services.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = exists(CHROMIUM);
const STEEL = `${SHARED_DIR}/datasets/neu_seg_dev/neu_steel/test/scratches/001.png`;
const HAVE_STEEL = exists(STEEL);
/** The options of both runs (page and CLI): the default preset at a 128² working size. */
const SIZE = 128;
/** Parity bound: max |page − CLI| over the CLI map's range, on the same (webgpu) backend. */
const TOLERANCE = 1e-4;
/** The bound between the two backends (as tests/preset_default.test.ts holds the CLI to). */
const CROSS_BACKEND = 1e-3;

Deno.test({
  name: "web: the app in Chromium (WebGPU) matches the CLI; no request leaves the origin",
  // Chromium's WebGPU is this test's GPU: with FCA_REQUIRE_GPU it runs, and fails, without it.
  ignore: skipWithoutShared(HAVE_MODEL, HAVE_STEEL) || skipWithoutGpu(HAVE_CHROMIUM),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.ok(HAVE_CHROMIUM, `${CHROMIUM} is missing (apt-get install chromium)`);
    const dir = await Deno.makeTempDir({ prefix: "fca-web-browser-" });
    const demo = `${dir}/texture.png`;
    const steel = `${dir}/steel.png`;
    // `fca demo --image-size 128`'s texture (seed 7, with its defect), and a NEU steel image.
    await Deno.writeFile(demo, encodeImagePng(syntheticTexture(SIZE, { seed: 7 }).image));
    await Deno.copyFile(STEEL, steel);
    const site = `${dir}/site`;
    await buildWeb({ out: site, model: MODEL_PATH, quiet: true });

    // The CLI's maps for the same files and options, on either backend. Its webgpu backend
    // needs an adapter in Deno (llvmpipe here): without one it is skipped, unless required.
    const cli: Record<string, Record<string, { npy: string; score: number; verdict: string }>> = {};
    for (const backend of ["webgpu", "cpu"]) {
      const out = `${dir}/cli-${backend}`;
      const args = [demo, steel, "--size", String(SIZE), "--backend", backend, "--out", out];
      const run = fcaChild(`cli ${backend}`, args);
      const status = await run.status;
      const lines = (await run.stdout()).trim().split("\n").filter((l) => l !== "");
      if (backend === "webgpu" && status.code !== 0 && !REQUIRE_GPU) {
        const noAdapter = run.lines.some((l) => /no WebGPU adapter available/.test(l));
        if (noAdapter) continue;
      }
      assert.equal(status.code, 0, `${backend}: ${run.lines.join("\n")}`);
      cli[backend] = Object.fromEntries(
        lines.map((l) => JSON.parse(l)).map((j) => {
          const name = j.path.split("/").pop();
          return [name, { npy: j.outputs.npy, score: j.score, verdict: j.verdict }];
        }),
      );
    }

    const { child, url } = await startServe(["--backend", "cpu", "--threads", "1", "--app", site]);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--enable-unsafe-webgpu", "--disable-dev-shm-usage"],
    });
    try {
      const context = await browser.newContext({
        viewport: { width: 1100, height: 900 },
        acceptDownloads: true,
      });
      const requests: string[] = [];
      context.on("request", (r: any) => requests.push(r.url()));
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e: any) => pageErrors.push(String(e)));
      // Listening now turns on Playwright's file chooser interception before the page opens one
      // (turned on by waitForEvent alone, it can race the Enter key and miss the dialog).
      page.on("filechooser", () => {});
      await page.goto(`${url}/app/?size=${SIZE}`);
      assert.equal(await page.title(), "fca in the browser — texture anomaly localisation");
      await page.waitForFunction(() => "fcaReady" in globalThis, undefined, {
        timeout: 60_000,
      });
      await page.evaluate(() => (globalThis as any).fcaReady);
      assert.match(
        await page.textContent("#model") ?? "",
        /resnet50v2-stage2\.onnx .*from this site/,
      );

      // Bad input is one line, as on the command line.
      const refused = await page.evaluate(() => {
        const detect = (globalThis as any).fcaDetect;
        const why = (p: Promise<unknown>) => p.then(() => "resolved", (e: Error) => e.message);
        return Promise.all([
          why(detect(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))),
          why(detect(new Uint8Array(8), { params: { patch: 4 } })),
          why(detect(new Uint8Array(8), { model: "x.onnx" })),
        ]);
      });
      assert.match(refused[0], /^image: /);
      assert.match(refused[1], /^params\.patch must be an odd integer/);
      assert.match(refused[2], /^option 'model' belongs to the page/);
      assert.ok(refused.every((m) => !m.includes("\n")), refused.join(" | "));

      const figures: string[] = [];
      const maps = new Map<string, Float32Array>();
      for (const [name, path] of [["texture.png", demo], ["steel.png", steel]] as const) {
        const bytes = await Deno.readFile(path);
        const r = await page.evaluate(
          async ([b, size]: [number[], number]) => {
            const r = await (globalThis as any).fcaDetect(new Uint8Array(b), { size });
            return { ...r, map: Array.from(r.map as Float32Array) };
          },
          [Array.from(bytes), SIZE] as [number[], number],
        );
        const image = decodeImage(bytes);
        assert.deepEqual([r.width, r.height], [image.width, image.height], name);
        const map = new Float32Array(r.map);
        maps.set(name, map);
        const line = [`${name} ${r.width}x${r.height}: score ${r.score.toFixed(6)}`];
        for (const [backend, bound] of [["webgpu", TOLERANCE], ["cpu", CROSS_BACKEND]] as const) {
          const ref = cli[backend]?.[name];
          if (!ref) {
            line.push(`CLI ${backend}: not run (no WebGPU adapter in Deno)`);
            continue;
          }
          const expected = (await readNpy(ref.npy)).data;
          const err = relativeMaxError(map, expected);
          let lo = Infinity, hi = -Infinity;
          for (const v of expected) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
          line.push(
            `vs CLI ${backend}: max|diff|/range ${err.toExponential(2)}, score ${
              ref.score.toFixed(6)
            }`,
          );
          assert.ok(err <= bound, `${name}: page vs CLI ${backend}: ${err}`);
          assert.ok(Math.abs(r.score - ref.score) <= bound * (hi - lo), `${name} score`);
          assert.equal(r.decision.verdict, ref.verdict, `${name} verdict`);
        }
        const ms = Object.entries(r.timings as Record<string, number>)
          .map(([k, v]) => `${k} ${Math.round(v)}`).join(", ");
        figures.push(`${line.join("; ")}; in-page ms: ${ms}`);
        assert.ok(r.timings.backbone > 0 && r.timings.fca > 0 && r.timings.decode > 0);
      }
      console.error(`web: ${figures.join("\n     ")}`);

      // The page itself: choose the texture (keyboard), see and download its result.
      await page.focus("#drop");
      const [chooser] = await Promise.all([
        page.waitForEvent("filechooser"),
        page.keyboard.press("Enter"),
      ]);
      await chooser.setFiles(demo);
      await page.waitForFunction(
        () =>
          /^texture\.png: score/.test(
            (globalThis as any).document.getElementById("status").textContent,
          ),
        undefined,
        { timeout: 240_000 },
      );
      assert.equal(await page.$eval("#overlay", (e: any) => e.width), SIZE);
      assert.match(
        await page.textContent("#verdict") ?? "",
        /^defect \(threshold [\d.]+, zero-shot/,
      );
      assert.match(await page.textContent("#regions") ?? "", /^\d+×\d+ at \(\d+, \d+\), \d+ px/);
      assert.match(await page.textContent("#timings") ?? "", /backbone[\d.]+.*fca[\d.]+/s);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click("button[data-download=npy]"),
      ]);
      assert.equal(download.suggestedFilename(), "texture.anomaly.npy");
      const npy = decodeNpy(await Deno.readFile(await download.path()));
      assert.deepEqual(npy.shape, [SIZE, SIZE]);
      assert.ok(
        relativeMaxError(npy.data, maps.get("texture.png")!) <= 1e-6,
        "download = fcaDetect",
      );
      // A decision option decides again from the map in the page, without detecting again.
      await page.fill("#threshold", "0.001");
      await page.dispatchEvent("#threshold", "change");
      await page.waitForFunction(() =>
        /explicit/.test((globalThis as any).document.getElementById("verdict").textContent)
      );
      await page.fill("#threshold", "");
      await page.dispatchEvent("#threshold", "change");
      await page.waitForFunction(() =>
        /zero-shot/.test((globalThis as any).document.getElementById("verdict").textContent)
      );
      const shot = Deno.env.get("FCA_UPDATE_SCREENSHOT")
        ? new URL("../docs/web.png", import.meta.url).pathname
        : `${dir}/web.png`;
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok((await Deno.stat(shot)).size > 10_000);
      assert.deepEqual(pageErrors, []);

      // The model is kept in the browser: a second visit reads model.json, not the model.
      const before = requests.length;
      const again = await context.newPage();
      await again.goto(`${url}/app/`);
      await again.waitForFunction(
        () =>
          /kept in this browser/.test(
            (globalThis as any).document.getElementById("model").textContent,
          ),
        undefined,
        { timeout: 60_000 },
      );
      await again.close();
      const second = requests.slice(before).map((u) => new URL(u).pathname);
      assert.ok(
        second.includes("/app/model.json") && !second.includes("/app/model.onnx"),
        second.join(" "),
      );

      // Any static host serves the built folder: the page loads and takes its model from there;
      // and without WebGPU it says so, and fcaReady rejects with the same message.
      const host = staticHost(site);
      try {
        const plain = await context.newPage();
        await plain.goto(`${host.url}/`);
        await plain.waitForFunction(
          () =>
            /resnet50v2-stage2\.onnx .*from this site/.test(
              (globalThis as any).document.getElementById("model").textContent,
            ),
          undefined,
          { timeout: 60_000 },
        );
        await plain.close();
        assert.ok(host.served.includes("/resnet50v2-stage2.onnx"), host.served.join(" "));
        const bare = await context.newPage();
        await bare.addInitScript(() => {
          Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined });
        });
        await bare.goto(`${host.url}/`);
        await bare.waitForFunction(() => "fcaReady" in globalThis);
        const rejected = await bare.evaluate(() =>
          (globalThis as any).fcaReady.then(() => "resolved", (e: Error) => e.message)
        );
        assert.match(rejected, /^This browser offers no WebGPU\. fca runs on WebGPU/);
        assert.equal(await bare.textContent("#gpu"), rejected);
        assert.equal(await bare.isVisible("#gpu"), true);
        await bare.close();
      } finally {
        await host.server.shutdown();
      }
      const origins = new Set([new URL(url).origin, host.url]); // the two sites' own origins

      // Privacy: every request went to the page's own origin (the model, wasm and kernels too).
      const elsewhere = requests.filter((u) =>
        !origins.has(new URL(u).origin) && !/^(blob|data):/.test(u)
      );
      assert.deepEqual(elsewhere, []);
      const paths = new Set(requests.map((u) => new URL(u).pathname));
      for (
        const p of [
          "/app/main.js",
          "/app/model.json",
          "/app/model.onnx",
          "/app/ort-wasm-simd-threaded.asyncify.wasm",
          "/app/kernels/rank_matching.wgsl",
        ]
      ) assert.ok(paths.has(p), `${p} requested from the origin`);
    } finally {
      await browser.close();
      child.kill("SIGTERM");
      await child.status;
      await child.stdout();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A plain static file server over `dir` (as any web host), logging the paths it served. */
function staticHost(dir: string) {
  const types: Record<string, string> = {
    html: "text/html",
    js: "text/javascript",
    css: "text/css",
    json: "application/json",
    wasm: "application/wasm",
  };
  const served: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname.replace(/\/$/, "/index.html");
    if (path.includes("..")) return new Response("no", { status: 404 });
    try {
      const body = await Deno.readFile(`${dir}${path}`);
      served.push(path);
      const type = types[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { server, url: `http://127.0.0.1:${server.addr.port}`, served };
}
