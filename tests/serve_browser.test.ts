/**
 * The web page in a real browser (Debian's chromium driven by playwright-core): upload the demo
 * texture, the overlay and heatmap appear, the threshold slider (by keyboard) redraws the mask
 * from the raw map without a new request. A screenshot goes to a temporary file, or to
 * docs/serve.png with FCA_UPDATE_SCREENSHOT=1.
 */
import assert from "node:assert/strict";
import { chromium } from "../src/base/npm/playwright_core.ts";
import { encodeImagePng } from "../src/io/encode.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { HAVE_MODEL } from "./_shared.ts";
import { startServe } from "./_services.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "serve: the web page in Chromium (upload, overlay, slider redraws the mask)",
  ignore: !HAVE_MODEL || !HAVE_CHROMIUM,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fca-browser-" });
    const image = `${dir}/texture.png`;
    // The demo's texture (same seed as `fca demo`), small to keep the test short.
    await Deno.writeFile(image, encodeImagePng(syntheticTexture(192, { seed: 7 }).image));
    const { child, url } = await startServe(["--backend", "cpu"]);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
      const requests: string[] = [];
      page.on("request", (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
      const pageErrors: string[] = [];
      page.on("pageerror", (e: any) => pageErrors.push(String(e)));
      // Listening now turns on Playwright's file chooser interception before the page opens one
      // (turned on by waitForEvent alone, it can race the Enter key and miss the dialog).
      page.on("filechooser", () => {});
      // Options in the page's address go to the API: here a threshold, so a verdict and regions.
      await page.goto(`${url}/?threshold=0.05&min_area=16`);
      assert.equal(await page.title(), "fca — texture anomaly localisation");

      // Keyboard: the drop zone is focusable and opens the file picker with Enter (once the
      // page's module script has run and installed its handlers).
      await page.waitForLoadState("networkidle");
      await page.focus("#drop");
      const [chooser] = await Promise.all([
        page.waitForEvent("filechooser"),
        page.keyboard.press("Enter"),
      ]);
      await chooser.setFiles(image);
      await page.waitForFunction(
        () => {
          const img = (globalThis as any).document.getElementById("overlay");
          return img.complete && img.naturalWidth > 0;
        },
        undefined,
        { timeout: 60_000 },
      );
      assert.equal(await page.$eval("#overlay", (e: any) => e.naturalWidth), 192);
      assert.equal(await page.$eval("#heatmap", (e: any) => e.naturalWidth), 192);
      assert.match(await page.textContent("#score") ?? "", /^\d+\.\d+$/);
      assert.match(await page.textContent("#timings") ?? "", /backbone/);
      assert.match(await page.textContent("#status") ?? "", /texture\.png: score/);
      assert.match(
        await page.textContent("#verdict") ?? "",
        /^defect \(threshold 0.05, explicit\)/,
      );
      assert.match(await page.textContent("#regions") ?? "", /\d+×\d+ at \(\d+, \d+\), \d+ px/);
      const detects = () => requests.filter((r) => r === "POST /v1/detect").length;
      assert.equal(detects(), 1);

      const above = () => page.$eval("#mask", (e: any) => Number(e.dataset.above));
      const pixels = () =>
        page.$eval("#mask", (e: any) => {
          const c = e;
          const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
          let on = 0;
          for (let i = 0; i < d.length; i += 4) on += d[i] > 127 ? 1 : 0;
          return on;
        });
      const before = await above();
      assert.equal(await pixels(), before);
      // Lower the threshold with the keyboard: more pixels are above it.
      await page.focus("#threshold");
      for (let i = 0; i < 2; i++) await page.keyboard.press("PageDown");
      const lower = await above();
      assert.ok(lower > before, `mask grew: ${before} -> ${lower}`);
      assert.equal(await pixels(), lower);
      await page.keyboard.press("End");
      assert.equal(await above(), 0);
      await page.keyboard.press("Home");
      const all = await above();
      assert.ok(
        all >= lower && all > before,
        `at the lowest threshold: ${all} (${before}, ${lower})`,
      );
      // Back to a telling threshold for the screenshot.
      await page.$eval("#threshold", (e: any) => {
        e.value = "450";
        e.dispatchEvent(new Event("input"));
      });
      assert.equal(detects(), 1, "the slider never asks the server again");
      assert.deepEqual(pageErrors, []);
      const shot = Deno.env.get("FCA_UPDATE_SCREENSHOT")
        ? new URL("../docs/serve.png", import.meta.url).pathname
        : `${dir}/serve.png`;
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok((await Deno.stat(shot)).size > 10_000);
    } finally {
      await browser.close();
      child.kill("SIGTERM");
      await child.status;
      await child.stdout();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
