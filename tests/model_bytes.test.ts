/**
 * Models held in memory (the browser app has no file system): the graph signature read from
 * bytes equals the one read from the file, the description follows the same lookup (manifest by
 * name or sha256, an entry given as the sidecar, else the graph), and a detector built from the
 * bytes gives exactly the map of one built from the path.
 */
import assert from "node:assert/strict";
import { HAVE_MODEL, MODEL_PATH, SHARED_DIR, skipWithoutShared } from "./_shared.ts";
import {
  describeModelBytes,
  loadManifestFor,
  sha256Bytes,
  sha256File,
} from "../src/features/manifest.ts";
import {
  encodeModel,
  graphSignatureOf,
  makeFloatTensor,
  makeModel,
  makeNode,
  makeValueInfo,
  readGraphSignature,
} from "../src/features/onnx_proto.ts";
import { modelFromBytes } from "../src/pipeline/feature_sources.ts";
import { Detector } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";

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

Deno.test("model bytes: graph fallback as for a file; an entry plays the sidecar", async () => {
  const bytes = tinyModel();
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/tiny.onnx`;
    await Deno.writeFile(path, bytes);
    assert.deepEqual(await graphSignatureOf(bytes), await readGraphSignature(path));
    assert.deepEqual(await describeModelBytes(bytes, "tiny.onnx"), await loadManifestFor(path));
    assert.equal(await sha256Bytes(bytes), await sha256File(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const entry = {
    file: "whatever.onnx",
    input: "img",
    output: "out",
    stride: 1,
    channels: 3,
    normalisation: { mean: [0, 0, 0], std: [1, 1, 1] },
  } as const;
  const m = await describeModelBytes(bytes, "tiny.onnx", {
    entry: { ...entry, normalisation: { mean: [0, 0, 0], std: [1, 1, 1] } },
  });
  assert.equal(m.origin, "sidecar");
  assert.equal(m.file, "tiny.onnx", "the file name is the bytes' own");
  assert.deepEqual([m.stride, m.channels], [1, 3]);
  await assert.rejects(
    describeModelBytes(bytes, "tiny.onnx", {
      entry: { ...entry, input: "foo", normalisation: { mean: [0, 0, 0], std: [1, 1, 1] } },
    }),
    (e: Error) => e.message === "model tiny.onnx: input 'foo' not found in graph (inputs: img)",
  );
  await assert.rejects(
    describeModelBytes(new TextEncoder().encode("not a model at all"), "junk.onnx"),
    /^Error: model junk\.onnx: cannot read ONNX graph: /,
  );
});

Deno.test({
  name: "model bytes: the shared backbones are found in the manifest by name or by sha256",
  ignore: skipWithoutShared(HAVE_MODEL),
  async fn() {
    const bytes = await Deno.readFile(MODEL_PATH);
    const byFile = await loadManifestFor(MODEL_PATH);
    const byName = await describeModelBytes(bytes, "resnet50v2-stage2.onnx");
    assert.deepEqual(byName, byFile);
    // Renamed: found by its sha256, as a renamed file is.
    const renamed = await describeModelBytes(bytes, "my-backbone.onnx");
    assert.equal(renamed.origin, "manifest");
    assert.equal(renamed.sha256, await sha256Bytes(bytes));
    assert.equal(renamed.stride, 8);
    const vgg = await modelFromBytes({ bytes: await Deno.readFile(VGG), name: "vgg.onnx" });
    assert.equal(vgg.manifest.channels, 64, "the VGG entry, by sha256");
    assert.equal(vgg.name, "vgg.onnx");
  },
});

Deno.test({
  name: "model bytes: a detector from the bytes gives the map of one from the path, exactly",
  ignore: skipWithoutShared(HAVE_MODEL),
  async fn() {
    const image = syntheticTexture(64, { seed: 4 }).image;
    const opts = { backend: "cpu" as const, threads: 1 };
    const fromPath = await Detector.create({ ...opts, model: MODEL_PATH });
    const fromBytes = await Detector.create(opts, {
      model: { bytes: await Deno.readFile(MODEL_PATH), name: "resnet50v2-stage2.onnx" },
    });
    try {
      const a = await fromPath.detect(image), b = await fromBytes.detect(image);
      assert.deepEqual(b.map.data, a.map.data);
      assert.equal(b.score, a.score);
      assert.equal(fromBytes.modelSha256, fromPath.modelSha256);
      await assert.rejects(
        Detector.create({ ...opts, model: MODEL_PATH }, {
          model: { bytes: new Uint8Array(1), name: "x.onnx" },
        }),
        /^Error: model: and model bytes both given$/,
      );
    } finally {
      await fromPath.dispose();
      await fromBytes.dispose();
    }
  },
});
