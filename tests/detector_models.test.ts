/**
 * The detector with backbones that the tests build: any ONNX graph plus a sidecar manifest works,
 * and a model whose output holds NaN is refused with one line instead of producing a map.
 */
import assert from "node:assert/strict";
import { encodeModel, makeModel, makeNode, makeValueInfo } from "../src/features/onnx_proto.ts";
import { Detector } from "../src/pipeline/detector.ts";
import { syntheticTexture } from "../src/demo/synthetic.ts";
import { fcaMapReference } from "../src/fca/rank_matching.ts";
import { medianReference } from "../src/fca/median_reference.ts";
import { minMaxScale } from "../src/fca/scale.ts";
import { normalizeImage } from "../src/features/backbone.ts";
import { relativeMaxError } from "./_shared.ts";

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
