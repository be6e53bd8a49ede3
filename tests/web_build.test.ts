/**
 * `deno task web` (web/build.ts): the folder holds the page, the kernels as in the repository,
 * the WebAssembly files the bundle loads beside itself and the model with its model.json; the
 * page's static import graph reaches only its own chunks (no `node:` or `npm:` module, no CPU
 * ONNX runtime); a rebuild replaces an earlier build and nothing else.
 */
import assert from "node:assert/strict";
import { buildWeb, MARKER } from "../web/build.ts";
import { originModelInfo } from "../src/features/model_info.ts";
import {
  encodeModel,
  makeFloatTensor,
  makeModel,
  makeNode,
  makeValueInfo,
} from "../src/features/onnx_proto.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Static `import`/`export ... from` specifiers of an ES module (esbuild's output). */
function staticImports(js: string): string[] {
  return [
    ...js.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)";?$|^import\s*"([^"]+)";?$/gm),
  ]
    .map((m) => m[1] ?? m[2]);
}

/** Every file reached from `entry` by static imports. */
async function staticGraph(dir: string, entry: string): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (graph.has(file)) continue;
    const specs = staticImports(await Deno.readTextFile(`${dir}/${file}`));
    graph.set(file, specs);
    for (const s of specs) if (s.startsWith("./")) todo.push(s.slice(2));
  }
  return graph;
}

function kernelFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) out.push(...kernelFiles(`${dir}/${e.name}`, `${prefix}${e.name}/`));
    else if (e.name.endsWith(".wgsl")) out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}

Deno.test({
  name: "web build: page, kernels, wasm and model; the page's static graph is browser-only",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fca-web-" });
    const modelPath = `${dir}/tiny.onnx`;
    await Deno.writeFile(
      modelPath,
      encodeModel(makeModel({
        node: [makeNode("Relu", ["img"], ["out"])],
        initializer: [makeFloatTensor("unused", [1], new Float32Array([1]))],
        input: [makeValueInfo("img", ["n", 3, "h", "w"])],
        output: [makeValueInfo("out", ["n", 3, "h", "w"])],
        valueInfo: [],
        unknown: [],
      })),
    );
    const out = `${dir}/site`;
    try {
      const b = await buildWeb({ out, model: modelPath, quiet: true });
      assert.equal(b.model, modelPath);
      for (
        const f of [
          "index.html",
          "style.css",
          "main.js",
          "ort-wasm-simd-threaded.asyncify.wasm",
          "mozjpeg_dec.wasm",
          "tiny.onnx",
          "model.json",
          MARKER,
        ]
      ) assert.ok(Deno.statSync(`${out}/${f}`).isFile, f);
      const repoKernels = new URL("../kernels/", import.meta.url).pathname;
      assert.deepEqual(kernelFiles(`${out}/kernels`), kernelFiles(repoKernels));
      assert.equal(
        await Deno.readTextFile(`${out}/kernels/rank_matching.wgsl`),
        await Deno.readTextFile(`${repoKernels}rank_matching.wgsl`),
      );
      assert.deepEqual(
        JSON.parse(await Deno.readTextFile(`${out}/model.json`)),
        await originModelInfo(modelPath, { url: "tiny.onnx" }),
      );
      const wasm = await Deno.readFile(`${out}/ort-wasm-simd-threaded.asyncify.wasm`);
      assert.deepEqual([...wasm.subarray(0, 4)], [0, 0x61, 0x73, 0x6d], "a wasm module");
      // The page loads main.js: its static graph is its own chunks only. Node built-ins, npm
      // specifiers and the CPU runtimes stay behind dynamic imports the page never runs.
      assert.match(await Deno.readTextFile(`${out}/index.html`), /src="main\.js"/);
      const graph = await staticGraph(out, "main.js");
      assert.ok(graph.size >= 2, `main.js imports its chunks: ${[...graph.keys()]}`);
      const all = [...graph.values()].flat();
      assert.deepEqual(all.filter((s) => !s.startsWith("./")), [], "static imports");
      const text = (await Promise.all([...graph.keys()].map((f) =>
        Deno.readTextFile(`${out}/${f}`)
      )))
        .join("\n");
      assert.ok(text.includes("onnxruntime-web/webgpu") || text.includes("ort.webgpu"));
      assert.doesNotMatch(text, /^import .* from "(node|npm):/m);
      assert.ok(
        ![...graph.keys()].some((f) => /onnxruntime_(node|web)-/.test(f)),
        `CPU runtimes outside the page's graph: ${[...graph.keys()].join(" ")}`,
      );

      // A rebuild replaces the earlier build; any other folder is left alone.
      await Deno.writeTextFile(`${out}/stale.txt`, "from before");
      const again = await buildWeb({ out, model: false, quiet: true });
      assert.equal(again.model, undefined);
      assert.ok(!(await exists(`${out}/stale.txt`)) && !(await exists(`${out}/model.json`)));
      await Deno.mkdir(`${dir}/empty`);
      assert.equal(
        (await buildWeb({ out: `${dir}/empty`, model: false, quiet: true })).files > 30,
        true,
      );
      const other = `${dir}/mine`;
      await Deno.mkdir(other);
      await Deno.writeTextFile(`${other}/keep.txt`, "mine");
      await assert.rejects(
        buildWeb({ out: other, model: false, quiet: true }),
        (e: Error) =>
          e.message ===
            `--out ${other}: exists and is not an earlier build of the app; not replaced`,
      );
      assert.equal(await Deno.readTextFile(`${other}/keep.txt`), "mine");
      await assert.rejects(
        buildWeb({ out: `${dir}/x`, model: `${dir}/missing.onnx`, quiet: true }),
        /--model .*missing\.onnx: no such file/,
      );
      assert.ok(!(await exists(`${dir}/x`)), "no half-built folder is left");
      assert.deepEqual(
        [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".tmp-")),
        [],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
