/**
 * Model path resolution and model descriptions (sidecar, manifest by name or sha256, graph
 * fallback), checked against small models written here and the shared backbones.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { exists, MODEL_PATH, SHARED_DIR, skipWithoutShared } from "./_shared.ts";
import {
  BUILTIN_MANIFEST,
  IMAGENET_NORMALISATION,
  loadManifestFor,
  parseManifestEntry,
  sha256File,
} from "../src/features/manifest.ts";
import {
  DEFAULT_MODEL_FILE,
  defaultModelLocations,
  ensureModelPath,
  MODEL_ENV,
  resolveModelPath,
  resolveModelPathWith,
  sharedDir,
  sharedModelPath,
} from "../src/features/model_path.ts";
import { fakeZoo } from "./_zoo.ts";
import {
  encodeModel,
  makeFloatTensor,
  makeModel,
  makeNode,
  makeValueInfo,
  readGraphSignature,
} from "../src/features/onnx_proto.ts";

const RESNET = MODEL_PATH;
const VGG = `${SHARED_DIR}/models/vgg19norm-conv1_2.onnx`;

/** A tiny model whose graph lists its weight first among the inputs (IR 3 style). */
function tinyModel(): Uint8Array {
  return encodeModel(makeModel({
    node: [makeNode("Mul", ["img", "w"], ["m"]), makeNode("Relu", ["m"], ["out"])],
    initializer: [makeFloatTensor("w", [1], new Float32Array([2]))],
    input: [makeValueInfo("w", [1]), makeValueInfo("img", ["n", 3, "h", "w"])],
    output: [makeValueInfo("out", ["n", 3, "h", "w"])],
    valueInfo: [],
    unknown: [],
  }));
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("resolveModelPathWith: --model, then env, then the default locations", async () => {
  await withTempDir(async (dir) => {
    const [a, b, c] = ["a.onnx", "b.onnx", "c.onnx"].map((f) => `${dir}/${f}`);
    for (const p of [a, b, c]) await Deno.writeFile(p, new Uint8Array([0]));
    const missing = `${dir}/missing.onnx`;
    assert.equal(resolveModelPathWith({ option: a, env: b, defaults: [c] }), a);
    assert.equal(resolveModelPathWith({ env: b, defaults: [c] }), b);
    assert.equal(resolveModelPathWith({ defaults: [missing, c] }), c);
    assert.throws(
      () => resolveModelPathWith({ option: missing, env: b, defaults: [c] }),
      new RegExp(`^Error: model file ${missing} not found`),
    );
    assert.throws(
      () => resolveModelPathWith({ env: missing, defaults: [c] }),
      /model file .*missing\.onnx not found \(from FCA_MODEL\)/,
    );
  });
});

Deno.test("resolveModelPathWith: no model anywhere says how to get one, on one line", () => {
  assert.throws(() => resolveModelPathWith({ defaults: ["/nonexistent/x.onnx"] }), (e: Error) => {
    assert.ok(!e.message.includes("\n"));
    assert.match(e.message, /\/nonexistent\/x\.onnx/);
    assert.match(e.message, /`deno task model` \(needs internet\)/);
    assert.match(e.message, /--model PATH or set FCA_MODEL=PATH/);
    return true;
  });
});

Deno.test("resolveModelPath: reads FCA_MODEL; the option wins", async () => {
  await withTempDir(async (dir) => {
    const a = `${dir}/a.onnx`, b = `${dir}/b.onnx`;
    await Deno.writeFile(a, new Uint8Array([0]));
    await Deno.writeFile(b, new Uint8Array([0]));
    const saved = Deno.env.get(MODEL_ENV);
    try {
      Deno.env.set(MODEL_ENV, b);
      assert.equal(resolveModelPath(), b);
      assert.equal(resolveModelPath(a), a);
      Deno.env.set(MODEL_ENV, `${dir}/nope.onnx`);
      assert.throws(() => resolveModelPath(), /model file .*nope\.onnx not found/);
    } finally {
      if (saved === undefined) Deno.env.delete(MODEL_ENV);
      else Deno.env.set(MODEL_ENV, saved);
    }
  });
});

/** The project's default model location, and a way to run with FCA_MODEL unset from `/`. */
const PROJECT_MODELS = new URL("../models/", import.meta.url).pathname;
const DEFAULT_MODEL = `${PROJECT_MODELS}${DEFAULT_MODEL_FILE}`;

function fromRootWithoutEnv<T>(fn: () => T): T {
  const saved = Deno.env.get(MODEL_ENV), shared = Deno.env.get("FCA_SHARED");
  const cwd = Deno.cwd();
  try {
    Deno.env.delete(MODEL_ENV);
    // No shared copy either (the last place looked in before building one).
    Deno.env.set("FCA_SHARED", `/nonexistent-fca-shared-${Deno.pid}`);
    Deno.chdir("/");
    return fn();
  } finally {
    Deno.chdir(cwd);
    if (saved !== undefined) Deno.env.set(MODEL_ENV, saved);
    if (shared === undefined) Deno.env.delete("FCA_SHARED");
    else Deno.env.set("FCA_SHARED", shared);
  }
}

Deno.test("resolveModelPath: the default is models/ in the project, whatever the cwd", async () => {
  // A temporary model there unless a real one is (models/*.onnx is git-ignored).
  const placed = !exists(DEFAULT_MODEL);
  if (placed) await Deno.writeFile(DEFAULT_MODEL, tinyModel(), { createNew: true });
  try {
    assert.equal(fromRootWithoutEnv(() => resolveModelPath()), DEFAULT_MODEL);
  } finally {
    if (placed) await Deno.remove(DEFAULT_MODEL);
  }
});

Deno.test("resolveModelPath: no model anywhere names models/ in the project and how to get one", async () => {
  // A real model there is moved aside (same folder, so a rename) and put back.
  const aside = `${DEFAULT_MODEL}.aside-${Deno.pid}`;
  const moved = exists(DEFAULT_MODEL);
  if (moved) await Deno.rename(DEFAULT_MODEL, aside);
  try {
    assert.throws(() => fromRootWithoutEnv(() => resolveModelPath()), (e: Error) => {
      assert.ok(e.message.includes(DEFAULT_MODEL), e.message);
      assert.ok(!e.message.includes("\n"));
      assert.match(e.message, /deno task model/);
      return true;
    });
  } finally {
    if (moved) await Deno.rename(aside, DEFAULT_MODEL);
  }
});

Deno.test("graph fallback: first real input, first output, ImageNet, inferred", async () => {
  await withTempDir(async (dir) => {
    const p = `${dir}/tiny.onnx`;
    await Deno.writeFile(p, tinyModel());
    const sig = await readGraphSignature(p);
    assert.deepEqual(sig.inputs.map((v) => v.name), ["w", "img"]);
    assert.deepEqual([...sig.initializerNames], ["w"]);
    const m = await loadManifestFor(p);
    assert.equal(m.origin, "graph");
    assert.equal(m.inferred, true);
    assert.equal(m.input, "img");
    assert.equal(m.output, "out");
    assert.equal(m.stride, undefined);
    assert.equal(m.channels, undefined);
    assert.deepEqual(m.normalisation, IMAGENET_NORMALISATION);
    assert.equal(m.file, "tiny.onnx");
  });
});

Deno.test("sidecar <model>.json wins and is checked against the graph", async () => {
  await withTempDir(async (dir) => {
    const p = `${dir}/tiny.onnx`;
    await Deno.writeFile(p, tinyModel());
    const entry = {
      input: "img",
      output: "out",
      stride: 1,
      channels: 3,
      normalisation: { mean: [0, 0, 0], std: [1, 1, 1] },
    };
    await Deno.writeTextFile(`${p}.json`, JSON.stringify(entry));
    const m = await loadManifestFor(p);
    assert.equal(m.origin, "sidecar");
    assert.equal(m.stride, 1);
    assert.equal(m.channels, 3);
    assert.equal(m.inferred, undefined);
    assert.deepEqual(m.normalisation.std, [1, 1, 1]);

    // A different file (so no cache hit) whose sidecar names a missing input.
    const q = `${dir}/tiny2.onnx`;
    await Deno.writeFile(q, tinyModel());
    await Deno.writeTextFile(`${dir}/tiny2.json`, JSON.stringify({ ...entry, input: "foo" }));
    await assert.rejects(loadManifestFor(q), (e: Error) => {
      assert.equal(e.message, `model ${q}: input 'foo' not found in graph (inputs: img)`);
      return true;
    });
    await Deno.writeTextFile(`${dir}/tiny2.json`, JSON.stringify({ ...entry, stride: 0 }));
    await assert.rejects(
      loadManifestFor(q),
      /sidecar .*tiny2\.json: 'stride' must be a positive integer/,
    );
  });
});

Deno.test("manifest entries are well formed and list both backbones", () => {
  const files = BUILTIN_MANIFEST.map((m) => m.file);
  assert.deepEqual(files, ["resnet50v2-stage2.onnx", "vgg19norm-conv1_2.onnx"]);
  for (const m of BUILTIN_MANIFEST) {
    assert.ok(!m.inferred && m.sha256 && m.licence && m.source, m.file);
  }
  assert.throws(
    () => parseManifestEntry({ file: "x", input: "a", output: "b" }, "x"),
    /^Error: x: 'normalisation' \{mean, std\} is required$/,
  );
  assert.throws(
    () =>
      parseManifestEntry({
        file: "x",
        input: "a",
        output: "b",
        normalisation: { mean: [0, 0, 0], std: [1, 0, 1] },
      }, "x"),
    /'normalisation.std' must be 3 positive numbers/,
  );
});

Deno.test({
  name: "shared models: manifest sha256, names and lookup by name and by sha256",
  ignore: skipWithoutShared(exists(RESNET), exists(VGG)),
  fn: async () => {
    for (
      const [path, file] of [[RESNET, "resnet50v2-stage2.onnx"], [VGG, "vgg19norm-conv1_2.onnx"]]
    ) {
      const entry = BUILTIN_MANIFEST.find((m) => m.file === file)!;
      const whole = createHash("sha256").update(await Deno.readFile(path)).digest("hex");
      assert.equal(await sha256File(path), whole);
      assert.equal(entry.sha256, whole, `${file} sha256`);
      const sig = await readGraphSignature(path);
      assert.deepEqual(sig.inputs.map((v) => v.name), [entry.input]);
      assert.deepEqual(sig.outputs.map((v) => v.name), [entry.output]);
    }
    const vgg = await loadManifestFor(VGG);
    assert.equal(vgg.origin, "manifest");
    assert.equal(vgg.stride, 1);
    assert.equal(vgg.channels, 64);
    assert.deepEqual(vgg.normalisation.mean, [0, 0, 0]);

    await withTempDir(async (dir) => {
      const renamed = `${dir}/my-backbone.onnx`;
      await Deno.copyFile(RESNET, renamed);
      const m = await loadManifestFor(renamed);
      assert.equal(m.origin, "manifest");
      assert.equal(m.file, "resnet50v2-stage2.onnx");
      assert.equal(m.stride, 8);
      assert.equal(m.channels, 512);
      assert.deepEqual(m.normalisation, IMAGENET_NORMALISATION);
    });
  },
});

/** Run `fn` with the environment variables `vars` set (undefined = unset), then restore them. */
async function withEnv(vars: Record<string, string | undefined>, fn: () => Promise<void> | void) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  try {
    for (const [k, v] of Object.entries(vars)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
    await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
  }
}

Deno.test("default locations: models/ in the project, then $FCA_SHARED/models, else ../shared beside it", async () => {
  const project = new URL("../", import.meta.url).pathname;
  const parent = new URL("../../", import.meta.url).pathname;
  await withEnv({ FCA_SHARED: "/data/shared" }, () => {
    const d = defaultModelLocations();
    assert.equal(d[0], `${project}models/${DEFAULT_MODEL_FILE}`);
    assert.equal(d.at(-1), `/data/shared/models/${DEFAULT_MODEL_FILE}`);
    assert.equal(sharedModelPath("v.onnx"), "/data/shared/models/v.onnx");
  });
  await withEnv({ FCA_SHARED: undefined }, () => {
    assert.equal(sharedDir(), `${parent}shared`);
    assert.equal(defaultModelLocations().at(-1), `${parent}shared/models/${DEFAULT_MODEL_FILE}`);
  });
});

Deno.test("resolveModelPath: with nothing in models/, the shared copy in $FCA_SHARED/models is used", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/models`);
    const shared = `${dir}/models/${DEFAULT_MODEL_FILE}`;
    await Deno.writeFile(shared, new Uint8Array([0]));
    await withEnv({ FCA_SHARED: dir, FCA_MODEL: undefined }, () => {
      const project = defaultModelLocations()[0];
      assert.equal(resolveModelPath(), exists(project) ? project : shared);
      // The models/ folder wins over the shared one.
      assert.equal(resolveModelPathWith({ defaults: [shared, project] }), shared);
    });
  });
});

/** Serve `body` once per request on 127.0.0.1 (no network needed); returns the URL and a stop. */
function serve(body: Uint8Array): { url: string; stop: () => Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(body as Uint8Array<ArrayBuffer>, {
        headers: { "content-length": String(body.length) },
      }),
  );
  const { port } = server.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${port}/resnet50-v2-7.onnx`, stop: () => server.shutdown() };
}

Deno.test({
  name:
    "ensureModelPath: no model anywhere: downloaded on first use (progress, sha256, atomic save)",
  ignore: !exists(RESNET),
  fn: async () => {
    const zoo = fakeZoo(await Deno.readFile(RESNET));
    const sha = createHash("sha256").update(zoo).digest("hex");
    const { url, stop } = serve(zoo);
    try {
      await withTempDir(async (dir) => {
        const out = `${dir}/models/${DEFAULT_MODEL_FILE}`;
        const lines: string[] = [], bar: string[] = [];
        const build = {
          url,
          sha256: sha,
          progress: { write: (t: string) => bar.push(t), tty: false },
        };
        await withEnv({ FCA_MODEL: undefined }, async () => {
          const got = await ensureModelPath(undefined, {
            defaults: [out, `${dir}/shared/${DEFAULT_MODEL_FILE}`],
            build,
            log: (l) => lines.push(l),
          });
          assert.equal(got, out);
          assert.ok(exists(out));
          assert.deepEqual([...Deno.readDirSync(`${dir}/models`)].map((e) => e.name), [
            DEFAULT_MODEL_FILE,
          ]);
          assert.match(lines[0], /none found \(looked in .*\); building .*resnet50v2-stage2\.onnx/);
          assert.ok(lines.some((l) => l === `model: sha256 ${sha} ok`), lines.join("\n"));
          assert.match(
            lines.at(-1)!,
            new RegExp(`^model: saved ${out} \\(sha256 [0-9a-f]{64}\\)$`),
          );
          // Not a terminal: whole lines, no carriage returns, ending at 100 %.
          assert.ok(bar.length >= 2 && bar.every((t) => t.endsWith("\n") && !t.includes("\r")));
          assert.match(bar.at(-1)!, /\[#+\] .* MB \/ .* MB/);
          // Found the second time: no download.
          const again: string[] = [];
          assert.equal(
            await ensureModelPath(undefined, { defaults: [out], log: (l) => again.push(l) }),
            out,
          );
          assert.deepEqual(again, []);

          // A wrong sha256: nothing saved, one line.
          const other = `${dir}/other/${DEFAULT_MODEL_FILE}`;
          await assert.rejects(
            ensureModelPath(undefined, {
              defaults: [other],
              build: { ...build, sha256: "0".repeat(64) },
              log: () => {},
            }),
            (e: Error) => {
              assert.match(
                e.message,
                /building it failed: .*sha256 [0-9a-f]{64} is not the expected 0{64}/,
              );
              assert.ok(!e.message.includes("\n"));
              return true;
            },
          );
          assert.ok(!exists(other));
        });
      });
    } finally {
      await stop();
    }
  },
});

Deno.test("ensureModelPath: without network the error is one line naming where it looked", async () => {
  await withTempDir(async (dir) => {
    await withEnv({ FCA_MODEL: undefined }, async () => {
      const lines: string[] = [];
      await assert.rejects(
        ensureModelPath(undefined, {
          defaults: [`${dir}/models/${DEFAULT_MODEL_FILE}`],
          build: { url: "http://127.0.0.1:9/resnet50-v2-7.onnx" },
          log: (l) => lines.push(l),
        }),
        (e: Error) => {
          assert.ok(!e.message.includes("\n"), e.message);
          assert.match(
            e.message,
            /^no backbone model found \(looked in .*\) and building it failed: cannot download http:\/\/127\.0\.0\.1:9\//,
          );
          assert.match(e.message, /--model PATH or set FCA_MODEL=PATH/);
          return true;
        },
      );
      assert.equal(lines.length, 2); // "none found; building ...", "downloading ..."
      // A named model is never replaced by a download.
      await assert.rejects(
        ensureModelPath(`${dir}/nope.onnx`, { defaults: [], log: () => {} }),
        /^Error: model file .*nope\.onnx not found \(from --model\)$/,
      );
    });
  });
});
