/**
 * `mod.ts` is importable from any folder without this repository's deno.json: a script in a
 * temporary folder imports it by file URL and runs the detector (PNG and JPEG decoding and, when
 * the shared model exists, onnxruntime-node).
 */
import assert from "node:assert/strict";
import { HAVE_MODEL, MODEL_PATH } from "./_shared.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { encodeImagePng } from "../src/io/encode.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

Deno.test({
  name: "library: a script outside the repository imports mod.ts and detects",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const { image } = syntheticTexture(48, { seed: 2, defect: true });
      await Deno.writeFile(`${dir}/t.png`, encodeImagePng(image));
      const model = HAVE_MODEL ? JSON.stringify(MODEL_PATH) : "undefined";
      await Deno.writeTextFile(
        `${dir}/script.ts`,
        `import { Detector, readImage, VERSION } from ${JSON.stringify(MOD)};
const image = await readImage("t.png");
const features = ${HAVE_MODEL ? '"onnx"' : '"colors"'};
const detector = await Detector.create({ backend: "cpu", features, model: ${model}, params: { patch: 3 } });
const { score, map } = await detector.detect(image);
await detector.dispose();
let missing = "";
try {
  await Detector.create({ backend: "cpu", model: "nope.onnx" });
} catch (e) {
  missing = (e as Error).message;
}
console.log(JSON.stringify({ VERSION, score, width: map.width, missing }));
`,
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "script.ts"],
        cwd: dir,
        env: { NO_COLOR: "1", FCA_MODEL: "", DENO_NO_UPDATE_CHECK: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
      assert.match(r.VERSION, /^\d+\.\d+\.\d+$/);
      assert.ok(Number.isFinite(r.score) && r.score > 0);
      assert.equal(r.width, 48);
      // Errors raised to library users name the library option.
      assert.equal(r.missing, "model file nope.onnx not found (from model)");
      assert.ok(!exists(`${dir}/deno.json`) && !exists(`${dir}/deno.lock`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("library: npm packages are named with versions in src/base/npm/ only", () => {
  const src = new URL("../src/", import.meta.url);
  const offenders: string[] = [];
  const walk = (dir: URL, rel: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
      else if (e.name.endsWith(".ts") && !rel.startsWith("base/npm/")) {
        const text = Deno.readTextFileSync(new URL(e.name, dir));
        if (/(from|import)\s*\(?\s*"(npm:|onnxruntime|fast-png|jpeg-js|@jsquash)/.test(text)) {
          offenders.push(`${rel}${e.name}`);
        }
      }
    }
  };
  walk(src, "");
  assert.deepEqual(offenders, []);
  const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  assert.equal(config.imports, undefined, "deno.json maps no bare specifiers");
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("library errors name library options; the CLI names its flags", async () => {
  const { Detector } = await import("../mod.ts");
  await assert.rejects(
    Detector.create({ params: { patch: 4 }, features: "colors" }),
    /^Error: params\.patch must be an odd integer/,
  );
  await assert.rejects(
    Detector.create({ params: { patch: 4 }, features: "colors" }, { naming: "flag" }),
    /^Error: --patch must be an odd integer/,
  );
  await assert.rejects(
    Detector.create({ model: "/nonexistent/m.onnx" }),
    /^Error: model file \/nonexistent\/m\.onnx not found \(from model\)$/,
  );
});
