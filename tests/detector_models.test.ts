/**
 * The detector with backbones that the tests build: any ONNX graph plus a sidecar manifest works,
 * and a model whose output holds NaN is refused with one line instead of producing a map.
 */
import assert from "node:assert/strict";
import {
  decodeModel,
  encodeModel,
  makeModel,
  makeNode,
  makeValueInfo,
} from "../src/features/onnx_proto.ts";
import { IMAGENET_NORMALISATION } from "../src/features/manifest.ts";
import { loadModel } from "../src/pipeline/feature_sources.ts";
import type { Design } from "../src/design.ts";
import { Detector } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { fcaMapReference } from "../src/fca/rank_matching.ts";
import { medianReference } from "../src/fca/median_reference.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { normalizeImage } from "../src/features/backbone.ts";
import { exists, relativeMaxError, SHARED_DIR } from "./_shared.ts";

/** A stride-1 "backbone" of one unary op on the normalised image: [1,3,H,W] -> [1,3,H,W]. */
async function unaryModel(dir: string, op: string): Promise<string> {
  const model = makeModel({
    node: [makeNode(op, ["input"], ["features"], { name: op.toLowerCase() })],
    name: op,
    initializer: [],
    input: [makeValueInfo("input", [1, 3, "h", "w"])],
    output: [makeValueInfo("features", [1, 3, "h", "w"])],
    valueInfo: [],
    unknown: [],
  });
  const path = `${dir}/${op.toLowerCase()}.onnx`;
  await Deno.writeFile(path, encodeModel(model));
  const manifest = {
    file: `${op.toLowerCase()}.onnx`,
    input: "input",
    output: "features",
    stride: 1,
    channels: 3,
    normalisation: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  };
  await Deno.writeTextFile(`${path}.json`, JSON.stringify(manifest));
  return path;
}

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "any ONNX backbone with a sidecar manifest: the map equals the CPU specification",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    const model = await unaryModel(dir, "Abs");
    const { image } = syntheticTexture(40, { seed: 5, defect: true });
    const params = { patch: 5, sigmaP: 3, sigmaS: 1 };
    const detector = await Detector.create({ model, backend: "cpu", params, preset: "paper" });
    try {
      const det = await detector.detect(image);
      // Independent expectation: |normalised image| through the readable FCA specification.
      const data = normalizeImage(image, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] })
        .map(Math.abs);
      const f = minMaxScale({ channels: 3, height: 40, width: 40, data });
      const expected = fcaMapReference(f, medianReference(f, 5), params);
      assert.ok(det.featureMap);
      assert.ok(relativeMaxError(det.featureMap.data, expected.data) <= 1e-5);
      assert.deepEqual([det.map.height, det.map.width], [40, 40]);
    } finally {
      await detector.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "NaN in the model output is refused in one line",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    const model = await unaryModel(dir, "Sqrt"); // sqrt of negative normalised values = NaN
    const detector = await Detector.create({
      model,
      backend: "cpu",
      params: { patch: 3 },
      preset: "paper",
    });
    try {
      const { image } = syntheticTexture(32, { seed: 1 });
      await assert.rejects(() => detector.detect(image), /NaN or Inf/);
    } finally {
      await detector.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Two outputs of the normalised image, `abs` and `neg`, and no manifest entry. */
async function twoOutputModel(dir: string): Promise<string> {
  const model = makeModel({
    node: [makeNode("Abs", ["input"], ["abs"]), makeNode("Neg", ["input"], ["neg"])],
    name: "two",
    initializer: [],
    input: [makeValueInfo("input", [1, 3, "h", "w"])],
    output: [makeValueInfo("abs", [1, 3, "h", "w"]), makeValueInfo("neg", [1, 3, "h", "w"])],
    valueInfo: [],
    unknown: [],
  });
  const path = `${dir}/two.onnx`;
  await Deno.writeFile(path, encodeModel(model));
  return path;
}

Deno.test({
  name: "a model with several outputs and no manifest entry: refused in one line, or --output NAME",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const model = await twoOutputModel(dir);
      await assert.rejects(Detector.create({ model, backend: "cpu" }), (e: Error) => {
        assert.equal(
          e.message,
          `model ${model} has 2 outputs (abs, neg) and no manifest entry: choose one with ` +
            `--output NAME (library: output:) or a sidecar two.onnx.json`,
        );
        return true;
      });
      await assert.rejects(
        Detector.create({ model, backend: "cpu", output: "nope" }),
        /output 'nope' not found in graph \(outputs: abs, neg\)/,
      );
      // The graph's first output, asked for by name, is a choice too (it was once refused).
      await (await Detector.create({ model, backend: "cpu", output: "abs" })).dispose();
      // Only the chosen output is computed: the graph handed to onnxruntime is cut to it.
      const loaded = await loadModel({ features: "onnx" } as Design, model, "neg");
      assert.deepEqual(decodeModel(loaded.bytes).graph!.output.map((v) => v.name), ["neg"]);
      assert.equal(decodeModel(loaded.bytes).graph!.node.length, 1);

      const { image } = syntheticTexture(32, { seed: 3, defect: true });
      const params = { patch: 5, sigmaP: 3, sigmaS: 1 };
      const detector = await Detector.create({
        model,
        backend: "cpu",
        output: "neg",
        params,
        preset: "paper",
      });
      try {
        const det = await detector.detect(image);
        const data = normalizeImage(image, IMAGENET_NORMALISATION).map((v) => -v);
        const f = minMaxScale({ channels: 3, height: 32, width: 32, data });
        const expected = fcaMapReference(f, medianReference(f, 5), params);
        assert.ok(relativeMaxError(det.featureMap!.data, expected.data) <= 1e-5);
      } finally {
        await detector.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "shared multi-scale ResNet: refused without --output, runs on the one asked for",
  ignore: !exists(`${SHARED_DIR}/models/resnet50v2-multiscale.onnx`),
  ...opts,
  async fn() {
    const model = `${SHARED_DIR}/models/resnet50v2-multiscale.onnx`;
    await assert.rejects(
      Detector.create({ model, backend: "cpu" }),
      /has 3 outputs \(stage1, features, stage3\) and no manifest entry: choose one with --output NAME/,
    );
    const loaded = await loadModel({ features: "onnx" } as Design, model, "features");
    assert.deepEqual(decodeModel(loaded.bytes).graph!.output.map((v) => v.name), ["features"]);
  },
});
