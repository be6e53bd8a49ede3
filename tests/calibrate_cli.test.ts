/**
 * `fca calibrate`: a profile from good images (hand-crafted features, no model needed), the
 * warning under 20 images, usage errors, and loading the profile back against other settings.
 */
import assert from "node:assert/strict";
import { encodeImagePng } from "../src/io/encode.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { profileSettings, runCalibrate } from "../src/cli/calibrate.ts";
import { loadProfile } from "../src/decision/profile.ts";
import { toDetectorOptions } from "../src/cli/options.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function captureStderr<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; stderr: string[]; stdout: string[] }> {
  const stderr: string[] = [], stdout: string[] = [];
  const e = console.error, l = console.log;
  console.error = (...a: unknown[]) => stderr.push(a.join(" "));
  console.log = (...a: unknown[]) => stdout.push(a.join(" "));
  try {
    return { value: await fn(), stderr, stdout };
  } finally {
    console.error = e;
    console.log = l;
  }
}

Deno.test({
  name: "calibrate: profile from good images, rough-estimate warning, refusal on other settings",
  ...opts,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "fca-calibrate-" });
    try {
      await Deno.mkdir(`${dir}/good/sub`, { recursive: true });
      for (let i = 0; i < 5; i++) {
        const png = encodeImagePng(syntheticTexture(64, { seed: i + 1, defect: false }).image);
        await Deno.writeFile(`${dir}/good/${i < 3 ? "" : "sub/"}${i}.png`, png);
      }
      const args = ["--features", "colors", "--backend", "cpu", "--threads", "1", "--fpr", "0.2"];
      const r = await captureStderr(() =>
        runCalibrate([`${dir}/good`, "--recursive", "--out", `${dir}/p.json`, ...args])
      );
      assert.equal(r.value, 0, r.stderr.join("\n"));
      assert.ok(
        r.stderr.some((l) =>
          /warning: only 5 good images: the thresholds are a rough estimate/.test(l)
        ),
      );
      const line = JSON.parse(r.stdout[0]);
      assert.equal(line.images, 5);
      const p = JSON.parse(await Deno.readTextFile(`${dir}/p.json`));
      assert.equal(p.format, "fca-profile");
      assert.equal(p.images, 5);
      assert.equal(p.fpr, 0.2);
      assert.equal(p.modelSha256, "");
      assert.equal(p.settings.features, "colors");
      assert.ok(p.pixel.threshold <= p.image.max + 1e-6);
      assert.ok(p.image.threshold >= p.image.min && p.image.threshold <= p.image.max);
      // Same settings load; another patch is refused in one line.
      const settings = profileSettings(toDetectorOptions({ features: "colors" }), {
        minArea: p.minArea,
        border: p.border,
      });
      await loadProfile(`${dir}/p.json`, settings, "");
      await assert.rejects(
        () => loadProfile(`${dir}/p.json`, { ...settings, patch: 7 }, ""),
        /calibrated with other settings \(patch 3 → 7\)/,
      );
      // Without --recursive only the top folder's 3 images.
      const flat = await captureStderr(() =>
        runCalibrate([`${dir}/good`, "--out", `${dir}/q.json`, ...args])
      );
      assert.equal(flat.value, 0);
      assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/q.json`)).images, 3);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("calibrate: usage errors", async () => {
  await assert.rejects(() => runCalibrate(["--out", "p.json"]), /no good images given/);
  await assert.rejects(() => runCalibrate(["x"]), /--out profile.json is required/);
  await assert.rejects(() => runCalibrate(["x", "--out", "p", "--fpr", "1"]), /--fpr must be/);
  await assert.rejects(() => runCalibrate(["x", "--out", "p", "--fpr", ""]), /--fpr must be/);
  await assert.rejects(() => runCalibrate(["x", "--out", "p", "--min-area", "0"]), /--min-area/);
  const help = await captureStderr(() => runCalibrate(["--help"]));
  assert.equal(help.value, 0);
  assert.match(help.stdout[0], /Usage: fca calibrate/);
});
