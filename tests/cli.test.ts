/**
 * The command line as a user meets it: outputs, JSON lines, and a clear one-line error with a
 * non-zero exit for every bad input, losing nothing.
 */
import assert from "node:assert/strict";
import { encodeImagePng } from "../src/io/encode.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { decodeNpy } from "../src/io/npy.ts";
import { decodeImage } from "../src/io/decode.ts";
import { HAVE_MODEL, maxOf, MODEL_PATH, skipWithoutShared } from "./_shared.ts";

const MOD = new URL("../mod.ts", import.meta.url).pathname;

async function fca(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MOD, ...args],
    env: { FCA_MODEL: MODEL_PATH, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function texturePng(size: number, seed = 3): Uint8Array {
  return encodeImagePng(syntheticTexture(size, { seed, defect: true }).image);
}

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test("--help and --version", async () => {
  const help = await fca("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--sigma-p/);
  // Defaults are what runs: the default preset's value, then the paper's (from the presets table).
  const { PRESETS, resolveSettings } = await import("../src/design.ts");
  const paper = resolveSettings({ preset: "paper" });
  for (const [name, flag] of [["patch", "patch"], ["pad", "pad"], ["size", "size"]] as const) {
    const want = `(default ${PRESETS.default[name]}; paper: ${paper[name]})`;
    // The option's entry: from its flag to the next flag.
    const from = help.stdout.indexOf(`  --${flag} `);
    const line = help.stdout.slice(from, help.stdout.indexOf("\n  --", from + 1));
    assert.ok(line.includes(want), `--${flag}: ${want} missing`);
  }
  assert.match(help.stdout, /--size original\|auto\|N\n {21}resize/, "long flags wrap");
  const version = await fca("--version");
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^fca \d+\.\d+\.\d+/);
});

for (
  const [args, pattern] of [
    [["x.png", "--patch", "4"], /--patch must be an odd integer/],
    [["x.png", "--patch", "0"], /--patch must be an odd integer/],
    [["x.png", "--sigma-s=-1"], /--sigma-s must be a number >= 0/],
    [["x.png", "--sigma-s", "-1"], /--sigma-s.*ambiguous/],
    [["x.png", "--sigma-p", "abc"], /--sigma-p must be a number/],
    [["x.png", "--backend", "tpu"], /--backend must be auto, webgpu or cpu/],
    [["x.png", "--size", "7.5"], /--size must be/],
    [["x.png", "--cells", "80,50"], /--cells must be 1 to 4 increasing integers/],
    [["x.png", "--cells", "50", "--size", "320"], /--cells sets the scales of --size auto/],
    [["x.png", "--bogus"], /^error: unknown option --bogus \(see fca --help\)\n$/],
    [["demo", "--bogus"], /^error: unknown option --bogus \(see fca demo --help\)\n$/],
    [["x.png", "--io-workers=-1"], /--io-workers must be an integer in \[0, 64\]/],
    [["x.png", "--io-workers", "two"], /--io-workers must be an integer in \[0, 64\]/],
    [["x.png", "--out", "/proc/fca-cannot-write"], /output folder is not writable/],
    [[], /Usage|Commands/],
  ] as [string[], RegExp][]
) {
  Deno.test(`usage error: fca ${args.join(" ")}`, async () => {
    const r = await fca(...args);
    assert.equal(r.code, 2);
    assert.match(r.stderr + r.stdout, pattern);
    if (args.length > 0) assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  });
}

for (
  const [args, pattern] of [
    [["eval"], /eval takes exactly one DATASET_ROOT, got 0/],
    [["eval", "a", "b"], /eval takes exactly one DATASET_ROOT, got 2/],
    [["eval", "root", "--crop=-1"], /--crop must be an integer >= 0, got '-1'/],
    [["eval", "root", "--eval-size", "0"], /--eval-size must be an integer >= 1/],
    [["eval", "root", "--stats", "nope"], /--stats must be one of/],
    [["eval", "root", "--bogus"], /unknown option --bogus \(see fca eval --help\)/],
    [["demo", "--bogus"], /unknown option --bogus \(see fca demo --help\)/],
    [["demo", "stray"], /unexpected argument stray \(see fca demo --help\)/],
  ] as [string[], RegExp][]
) {
  Deno.test(`usage error through main(): fca ${args.join(" ")}`, async () => {
    const r = await fca(...args);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: /);
    assert.match(lines[0], pattern);
  });
}

Deno.test("fca eval --help prints the eval usage and exits 0", async () => {
  const r = await fca("eval", "--help");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /DATASET_ROOT/);
  assert.match(r.stdout, /--save-maps/);
});

Deno.test({
  name: "fca demo: texture, heatmap, overlay, map and panel; the defect is the hottest spot",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fca-demo-" });
    try {
      const size = 96;
      const r = await fca(
        "demo",
        "--out",
        dir,
        "--image-size",
        String(size),
        "--features",
        "colors",
        "--backend",
        "cpu",
        "--preset", // the score is then the map's maximum
        "paper",
      );
      assert.equal(r.code, 0, r.stderr);
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(names, [
        "panel.png",
        "texture.anomaly.npy",
        "texture.anomaly.png",
        "texture.overlay.png",
        "texture.png",
      ]);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.length, 1, r.stdout);
      const rec = JSON.parse(lines[0]);
      assert.equal(rec.path, `${dir}/texture.png`);
      assert.deepEqual([rec.width, rec.height], [size, size]);
      assert.match(r.stderr, /demo: generated .*texture\.png \(96x96/);
      assert.match(r.stderr, /demo: see .*panel\.png/);
      // The generated texture is the documented one (seed 7, with a defect).
      const { image, mask } = syntheticTexture(size, { seed: 7, defect: true });
      assert.deepEqual(
        decodeImage(await Deno.readFile(`${dir}/texture.png`)).data,
        Float32Array.from(
          image.data,
          (v) => Math.round(v * 255) / 255,
        ),
      );
      const map = decodeNpy(await Deno.readFile(`${dir}/texture.anomaly.npy`));
      assert.deepEqual(map.shape, [size, size]);
      assert.equal(maxOf(map.data), rec.score);
      let hot = 0;
      for (let i = 1; i < map.data.length; i++) if (map.data[i] > map.data[hot]) hot = i;
      assert.equal(mask[hot], 255, `hottest pixel (${hot % size}, ${Math.floor(hot / size)})`);
      // Panel: texture, heatmap and overlay side by side with 8-pixel gaps.
      const panel = decodeImage(await Deno.readFile(`${dir}/panel.png`));
      assert.deepEqual([panel.width, panel.height], [3 * size + 16, size]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a batch with failures ends with one 'N of M inputs failed' line and exits 1",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/good.png`, texturePng(64));
      await Deno.writeFile(`${dir}/text.png`, new TextEncoder().encode("not an image"));
      const r = await fca(
        `${dir}/good.png`,
        `${dir}/missing.png`,
        `${dir}/text.png`,
        "--out",
        `${dir}/out`,
        "--features",
        "colors",
        "--backend",
        "cpu",
      );
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.deepEqual(lines.map((l) => l.startsWith("error:")), [true, true, false], r.stderr);
      assert.equal(lines[2], "2 of 3 inputs failed");
      assert.equal(r.stdout.trim().split("\n").length, 1, "the good image was processed");
      // All good: no summary line.
      const ok = await fca(`${dir}/good.png`, "--out", `${dir}/out`, "--features", "colors");
      assert.equal(ok.code, 0, ok.stderr);
      assert.doesNotMatch(ok.stderr, /inputs failed/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a batch reports each bad input on one line, processes the rest, exits 1",
  ignore: skipWithoutShared(HAVE_MODEL),
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/out`;
    const good = `${dir}/good.png`;
    const goodBytes = texturePng(160);
    await Deno.writeFile(good, goodBytes);
    await Deno.writeFile(`${dir}/empty.png`, new Uint8Array());
    await Deno.writeFile(`${dir}/text.png`, new TextEncoder().encode("hello, not an image\n"));
    await Deno.writeFile(`${dir}/truncated.png`, goodBytes.subarray(0, goodBytes.length >> 1));
    await Deno.writeFile(`${dir}/tiny.png`, texturePng(40));
    await Deno.mkdir(`${dir}/noimages`);
    const r = await fca(
      good,
      `${dir}/missing.png`,
      `${dir}/empty.png`,
      `${dir}/text.png`,
      `${dir}/truncated.png`,
      `${dir}/tiny.png`,
      `${dir}/noimages`,
      "--out",
      out,
      "--backend",
      "cpu",
      // The paper's fixed scale: a 40 px image is too small for one patch (the default preset
      // enlarges it instead).
      "--preset",
      "paper",
    );
    assert.equal(r.code, 1, r.stderr);
    const errors = r.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 6, r.stderr);
    assert.match(r.stderr, /missing\.png: no such file/);
    assert.match(r.stderr, /empty\.png: .*(empty|zero)/i);
    assert.match(r.stderr, /text\.png: .*not a PNG or JPEG/);
    assert.match(r.stderr, /truncated\.png: .*truncated/i);
    assert.match(r.stderr, /tiny\.png: .*smaller than one 9x9 patch/);
    assert.match(r.stderr, /noimages: directory has no PNG or JPEG images/);
    assert.equal(r.stderr.trim().split("\n").at(-1), "6 of 7 inputs failed");
    // The good image was processed: one JSON line, three outputs, nothing for the bad ones.
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]);
    assert.equal(rec.backend, "cpu");
    // The engine that ran and why this backend, in separate fields.
    assert.match(rec.engine, /^onnxruntime-(node|web\/wasm); FCA on \d+ CPU threads?$/);
    assert.equal(rec.backend_reason, "requested");
    assert.equal(rec.adapter, undefined);
    assert.equal(rec.width, 160);
    assert.ok(rec.ms.fca > 0 && rec.ms.backbone > 0);
    const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assert.deepEqual(names, ["good.anomaly.npy", "good.anomaly.png", "good.overlay.png"]);
    const npy = decodeNpy(await Deno.readFile(`${out}/good.anomaly.npy`));
    assert.deepEqual(npy.shape, [160, 160]);
    assert.equal(maxOf(npy.data), rec.score);
    const heat = decodeImage(await Deno.readFile(`${out}/good.anomaly.png`));
    assert.deepEqual([heat.width, heat.height], [160, 160]);
    // Inputs are never modified.
    assert.deepEqual(await Deno.readFile(good), goodBytes);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "a file that is not an ONNX model is refused in one line",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.writeFile(`${dir}/a.png`, texturePng(96));
    await Deno.writeFile(`${dir}/bad.onnx`, new TextEncoder().encode("not a model"));
    const r = await fca(`${dir}/a.png`, "--model", `${dir}/bad.onnx`, "--backend", "cpu");
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /bad\.onnx/);
    const missing = await fca(`${dir}/a.png`, "--model", `${dir}/none.onnx`);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /none\.onnx.*not found/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a.png", "bad.onnx"]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("demo --help is the demo's help", async () => {
  const r = await fca("demo", "--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: fca demo \[options\]/);
  assert.match(r.stdout, /--image-size N/);
});

Deno.test({
  name: "every input failing leaves no empty --out folder behind",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const r = await fca(`${dir}/missing.png`, "--out", `${dir}/a/b`, "--features", "colors");
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /missing\.png: no such file/);
      assert.deepEqual([...Deno.readDirSync(dir)], []);
      // An existing folder is kept.
      await Deno.mkdir(`${dir}/keep`);
      await fca(`${dir}/missing.png`, "--out", `${dir}/keep`, "--features", "colors");
      assert.ok(Deno.statSync(`${dir}/keep`).isDirectory);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const adapter = await navigator.gpu?.requestAdapter().catch(() => null) ?? null;
const software = adapter !== null &&
  (/llvmpipe|lavapipe|swiftshader|warp/i.test(adapter.info?.description ?? "") ||
    (adapter.info as { isFallbackAdapter?: boolean })?.isFallbackAdapter === true);

Deno.test({
  name: "--backend webgpu on a software adapter warns once on stderr; auto says why it chose cpu",
  ignore: !software,
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/a.png`, texturePng(48));
      await Deno.writeFile(`${dir}/b.png`, texturePng(48, 4));
      const args = ["--features", "colors", "--patch", "3", "--out", dir, "--io-workers", "0"];
      const r = await fca(`${dir}/a.png`, `${dir}/b.png`, ...args, "--backend", "webgpu");
      assert.equal(r.code, 0, r.stderr);
      const warnings = r.stderr.split("\n").filter((l) => l.includes("warning"));
      assert.equal(warnings.length, 1, r.stderr);
      assert.match(warnings[0], /--backend webgpu runs on the software adapter .* slower/);
      const rec = JSON.parse(r.stdout.trim().split("\n")[0]);
      assert.equal(rec.backend, "webgpu");
      assert.match(rec.engine, /^WebGPU on /);

      const auto = await fca(`${dir}/a.png`, ...args);
      assert.ok(!auto.stderr.includes("warning"), auto.stderr);
      const a = JSON.parse(auto.stdout.trim());
      assert.equal(a.backend, "cpu");
      assert.match(a.backend_reason, /software adapter/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The model where a fresh clone finds it with no environment variable set. */
const DEFAULT_FOUND = [
  new URL("../models/resnet50v2-stage2.onnx", import.meta.url).pathname,
  new URL("../../shared/models/resnet50v2-stage2.onnx", import.meta.url).pathname,
].some((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

Deno.test({
  name: "demo with no environment variable set: the model is found beside the clone",
  ignore: !DEFAULT_FOUND,
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const env: Record<string, string> = { NO_COLOR: "1" };
      for (const k of ["HOME", "PATH", "DENO_DIR", "TMPDIR"]) {
        const v = Deno.env.get(k);
        if (v !== undefined) env[k] = v;
      }
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MOD, "demo", "--image-size", "64", "--patch", "3", "--out", dir],
        cwd: dir,
        clearEnv: true,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.ok(Deno.statSync(`${dir}/panel.png`).isFile);
      assert.ok(!stderr.includes("downloading"), stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
