/**
 * Decisions and output names on the command line (issue 13): the JSON line's threshold, verdict,
 * normalised score and regions; `--mask`; `--threshold`; outputs that never collide (a PNG and a
 * JPEG of one name, the same name in two folders); `--recursive`.
 */
import assert from "node:assert/strict";
import { encodeImagePng } from "../src/io/encode.ts";
import { decodeGrayMask } from "../src/io/decode.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import jpeg from "../src/base/npm/jpeg_js.ts";
import type { RgbImage } from "../src/io/types.ts";

/** A quality-90 JPEG of a planar RGB image in [0, 1]. */
function encodeJpeg(image: RgbImage): Uint8Array {
  const { width: w, height: h, data } = image, n = w * h;
  const px = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) px[4 * i + c] = Math.round(255 * data[c * n + i]);
    px[4 * i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width: w, height: h, data: px }, 90).data);
}

const MOD = new URL("../mod.ts", import.meta.url).pathname;

async function fca(...args: string[]): Promise<{ code: number; lines: any[]; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MOD, "--features", "colors", "--patch", "5", "--backend", "cpu", ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const lines = dec.decode(out.stdout).trim().split("\n").filter((l) => l).map((l) =>
    JSON.parse(l)
  );
  return { code: out.code, lines, stderr: dec.decode(out.stderr) };
}

const texture = syntheticTexture(64, { seed: 3, defect: true });

Deno.test("decision fields, --mask and --threshold", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fca-decision-" });
  try {
    await Deno.writeFile(`${dir}/t.png`, encodeImagePng(texture.image));
    const zero = await fca(`${dir}/t.png`, "--out", `${dir}/out`, "--mask", "--min-area", "4");
    assert.equal(zero.code, 0, zero.stderr);
    const [line] = zero.lines;
    assert.equal(line.threshold.source, "zero-shot");
    assert.ok(line.threshold.value < line.score, "the peak is above the zero-shot threshold");
    assert.equal(line.verdict, "defect");
    assert.ok(line.score_normalized > 0.5 && line.score_normalized <= 1);
    assert.ok(line.regions.length >= 1 && line.regions[0].area >= 4);
    const mask = await decodeGrayMask(await Deno.readFile(line.outputs.mask));
    let set = 0;
    for (const v of mask.data) set += v ? 1 : 0;
    const total = line.regions.reduce((s: number, r: { area: number }) => s + r.area, 0);
    assert.equal(line.regions_omitted, 0);
    assert.equal(set, total, "mask pixels = the regions' areas");
    // A threshold above the image score: no region, verdict ok, normalised score below 0.5.
    const high = await fca(`${dir}/t.png`, "--out", `${dir}/out2`, "--threshold", "1e9");
    assert.equal(high.code, 0, high.stderr);
    assert.deepEqual(
      [high.lines[0].threshold.source, high.lines[0].verdict, high.lines[0].regions.length],
      ["explicit", "ok", 0],
    );
    assert.ok(high.lines[0].score_normalized < 0.5);
    const bad = await fca(`${dir}/t.png`, "--threshold", "abc");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: --threshold must be a number, got 'abc'\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("outputs never collide: a.png + a.jpg, and 000.png in two folders; --recursive", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fca-collide-" });
  try {
    await Deno.mkdir(`${dir}/f/a/deep`, { recursive: true });
    await Deno.mkdir(`${dir}/f/b`, { recursive: true });
    await Deno.writeFile(`${dir}/a.png`, encodeImagePng(texture.image));
    await Deno.writeFile(`${dir}/a.jpg`, encodeJpeg(texture.image));
    const ext = await fca(`${dir}/a.png`, `${dir}/a.jpg`, "--out", `${dir}/x`);
    assert.equal(ext.code, 0, ext.stderr);
    const npys = ext.lines.map((l) => l.outputs.npy);
    assert.deepEqual(npys, [`${dir}/x/a.png.anomaly.npy`, `${dir}/x/a.jpg.anomaly.npy`]);
    // The two maps differ (JPEG is lossy), so neither overwrote the other.
    const [m1, m2] = await Promise.all(npys.map((p) => Deno.readFile(p)));
    assert.notDeepEqual(m1, m2);

    await Deno.writeFile(`${dir}/f/a/000.png`, encodeImagePng(texture.image));
    await Deno.writeFile(`${dir}/f/b/000.png`, encodeImagePng(texture.image));
    await Deno.writeFile(`${dir}/f/a/deep/001.png`, encodeImagePng(texture.image));
    const two = await fca(`${dir}/f/a`, `${dir}/f/b`, "--out", `${dir}/y`);
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(two.lines.map((l) => l.outputs.npy).sort(), [
      `${dir}/y/a/000.anomaly.npy`,
      `${dir}/y/b/000.anomaly.npy`,
    ]);
    const rec = await fca(`${dir}/f`, "--out", `${dir}/z`, "--recursive");
    assert.equal(rec.code, 0, rec.stderr);
    assert.equal(rec.lines.length, 3, "the subfolders' images are taken");
    assert.equal(new Set(rec.lines.map((l) => l.outputs.npy)).size, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
