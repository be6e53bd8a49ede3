/**
 * ONNX reader/writer and graph cutting: small graphs built here, run with onnxruntime-node and
 * checked against a hand-written convolution; plus a round trip of the shared backbone.
 */
import assert from "node:assert/strict";
import * as ort from "../src/base/npm/onnxruntime_node.ts";
import { exists, HAVE_MODEL, MODEL_PATH, skipWithoutShared } from "./_shared.ts";
import { fakeZoo, noise } from "./_zoo.ts";
import { cutGraph, nearMatches } from "../src/features/onnx_cut.ts";
import {
  decodeModel,
  decodeTensorType,
  encodeModel,
  makeAttribute,
  makeFloatTensor,
  makeModel,
  makeNode,
  makeValueInfo,
  type OnnxModel,
} from "../src/features/onnx_proto.ts";
import {
  DEFAULT_TAP,
  download,
  main as modelTask,
  maxAbsDiff,
  prepareBackbone,
  runOnce,
} from "../src/cli/model_task.ts";

/** Plain NCHW conv (batch 1, stride 1, zero padding `pad`), optional bias, optional ReLU. */
function conv(
  x: Float32Array,
  [c, h, w]: number[],
  weight: Float32Array,
  [o, k]: number[],
  bias: Float32Array | null,
  pad: number,
  relu: boolean,
): Float32Array {
  const oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  const y = new Float32Array(o * oh * ow);
  for (let oc = 0; oc < o; oc++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let acc = bias ? bias[oc] : 0;
        for (let ic = 0; ic < c; ic++) {
          for (let di = 0; di < k; di++) {
            for (let dj = 0; dj < k; dj++) {
              const yi = i + di - pad, xj = j + dj - pad;
              if (yi < 0 || yi >= h || xj < 0 || xj >= w) continue;
              acc += x[(ic * h + yi) * w + xj] * weight[((oc * c + ic) * k + di) * k + dj];
            }
          }
        }
        y[(oc * oh + i) * ow + j] = relu ? Math.max(acc, 0) : acc;
      }
    }
  }
  return y;
}

const W1 = noise(3 * 2 * 3 * 3, 1), B1 = noise(3, 2), W2 = noise(2 * 3, 3), W3 = noise(4 * 3, 4);
const X = noise(2 * 5 * 5, 5);

/**
 * X[1,2,5,5] -> Conv(W1,B1,pad 1) -> c1 -> Relu -> r1 -> Conv(W2 1x1) -> c2 -> Relu -> y
 * plus a branch r1 -> Add(aux) -> Conv(W3) -> side (second output), an unused initializer, and
 * (IR 3 style) W3 also listed as a graph input.
 */
function testModel(): OnnxModel {
  const pads = makeAttribute("pads", { ints: [1, 1, 1, 1] });
  const k3 = makeAttribute("kernel_shape", { ints: [3, 3] });
  return makeModel({
    node: [
      makeNode("Conv", ["X", "W1", "B1"], ["c1"], { name: "conv1", attribute: [k3, pads] }),
      makeNode("Relu", ["c1"], ["r1"], { name: "relu1" }),
      makeNode("Add", ["r1", "aux"], ["a1"], { name: "branch_add" }),
      makeNode("Conv", ["a1", "W3"], ["side"], { name: "branch_conv" }),
      makeNode("Conv", ["r1", "W2"], ["c2"], { name: "conv2" }),
      makeNode("Relu", ["c2"], ["y"], { name: "relu2" }),
    ],
    name: "test",
    initializer: [
      makeFloatTensor("W1", [3, 2, 3, 3], W1),
      makeFloatTensor("B1", [3], B1),
      makeFloatTensor("W2", [2, 3, 1, 1], W2),
      makeFloatTensor("W3", [4, 3, 1, 1], W3),
      makeFloatTensor("unused", [2], new Float32Array([1, 2])),
    ],
    input: [
      makeValueInfo("X", [1, 2, 5, 5]),
      makeValueInfo("aux", [1, 3, 5, 5]),
      makeValueInfo("W3", [4, 3, 1, 1]),
    ],
    output: [makeValueInfo("y", [1, 2, 5, 5]), makeValueInfo("side", [1, 4, 5, 5])],
    valueInfo: [makeValueInfo("c1", [1, 3, 5, 5]), makeValueInfo("a1", [1, 3, 5, 5])],
    unknown: [],
  });
}

async function run(
  bytes: Uint8Array,
  feeds: Record<string, Float32Array>,
  dims: Record<string, number[]>,
): Promise<Record<string, ort.Tensor>> {
  // Severity 3: the uncut graph's IR-3-style input/unused weight warnings are intended.
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) inputs[k] = new ort.Tensor("float32", v, dims[k]);
    return await session.run(inputs);
  } finally {
    await session.release();
  }
}

function assertClose(actual: ort.Tensor, expected: Float32Array, dims: number[]) {
  assert.deepEqual([...actual.dims], dims);
  const a = actual.data as Float32Array;
  assert.equal(a.length, expected.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - expected[i]) < 1e-5, `element ${i}: ${a[i]} vs ${expected[i]}`);
  }
}

const R1 = conv(X, [2, 5, 5], W1, [3, 3], B1, 1, true);
const Y = conv(R1, [3, 5, 5], W2, [2, 1], null, 0, true);

Deno.test("uncut test graph runs and matches the hand-written convolutions", async () => {
  const bytes = encodeModel(testModel());
  const out = await run(bytes, { X, aux: new Float32Array(75) }, {
    X: [1, 2, 5, 5],
    aux: [1, 3, 5, 5],
  });
  assertClose(out.y, Y, [1, 2, 5, 5]);
  const side = conv(R1, [3, 5, 5], W3, [4, 1], null, 0, false);
  assertClose(out.side, side, [1, 4, 5, 5]);
});

Deno.test("cut at an intermediate ReLU: output equals conv+relu, branch and weights pruned", async () => {
  const cut = cutGraph(testModel(), { outputs: ["r1"] });
  const bytes = encodeModel(cut);
  const g = decodeModel(bytes).graph!;
  assert.deepEqual(g.node.map((n) => n.name), ["conv1", "relu1"]);
  assert.deepEqual(g.initializer.map((t) => t.name), ["W1", "B1"]);
  assert.deepEqual(g.input.map((v) => v.name), ["X"]);
  assert.deepEqual(g.output.map((v) => v.name), ["r1"]);
  // No annotation for r1 existed: FLOAT of unknown shape.
  assert.deepEqual(decodeTensorType(g.output[0].type!), { elemType: 1 });
  assert.deepEqual(g.valueInfo.map((v) => v.name), ["c1"]);
  const out = await run(bytes, { X }, { X: [1, 2, 5, 5] });
  assertClose(out.r1, R1, [1, 3, 5, 5]);
});

Deno.test("cut keeps existing annotations and renames input and output", async () => {
  const cut = cutGraph(testModel(), {
    outputs: ["c1", "y"],
    rename: { X: "input", y: "features" },
  });
  const g = cut.graph!;
  assert.deepEqual(g.node.map((n) => n.name), ["conv1", "relu1", "conv2", "relu2"]);
  assert.deepEqual(g.output.map((v) => v.name), ["c1", "features"]);
  assert.deepEqual(decodeTensorType(g.output[0].type!), { elemType: 1, dims: [1, 3, 5, 5] });
  assert.equal(g.node[0].input[0], "input");
  assert.ok(!g.initializer.some((t) => t.name === "W3" || t.name === "unused"));
  const out = await run(encodeModel(cut), { input: X }, { input: [1, 2, 5, 5] });
  assertClose(out.features, Y, [1, 2, 5, 5]);
  assertClose(out.c1, conv(X, [2, 5, 5], W1, [3, 3], B1, 1, false), [1, 3, 5, 5]);
  // The source model is untouched.
  assert.equal(testModel().graph!.node.length, 6);
});

Deno.test("cut errors name unknown taps with near matches", () => {
  assert.throws(
    () => cutGraph(testModel(), { outputs: ["r_1"] }),
    /tensor 'r_1' not found in the graph \(did you mean: r1/,
  );
  assert.throws(() => cutGraph(testModel(), { outputs: ["zzzzzzzzzzzz"] }), /^Error: [^\n]*$/);
  assert.throws(
    () => cutGraph(testModel(), { outputs: ["y"], rename: { y: "c1" } }),
    /name already used/,
  );
  assert.deepEqual(nearMatches("stage3_relu", ["stage3_relu0", "stage2_relu0", "fc"]), [
    "stage3_relu0",
    "stage2_relu0",
  ]);
});

Deno.test("reader/writer round trip keeps unknown fields byte for byte", () => {
  const model = testModel();
  // A field this reader does not interpret (metadata_props = 14) must survive.
  const meta = new Uint8Array([0x72, 0x04, 0x0a, 0x02, 0x6b, 0x31]);
  model.unknown.push({ field: 14, bytes: meta });
  const bytes = encodeModel(model);
  const again = encodeModel(decodeModel(bytes));
  assert.deepEqual(again, bytes);
  assert.deepEqual(decodeModel(bytes).unknown[0].bytes, meta);
});

Deno.test({
  name: "shared backbone: decode+encode is byte-identical and runs identically",
  ignore: skipWithoutShared(HAVE_MODEL),
  fn: async () => {
    const bytes = await Deno.readFile(MODEL_PATH);
    const again = encodeModel(decodeModel(bytes));
    assert.equal(again.length, bytes.length);
    assert.ok(again.every((b, i) => b === bytes[i]), "bytes differ");
    const a = await runOnce(bytes, 32), b = await runOnce(again, 32);
    assert.equal(maxAbsDiff(a, b), 0);
  },
});

Deno.test({
  name: "model task: a zoo-like model is cut back to the shared backbone exactly",
  ignore: skipWithoutShared(HAVE_MODEL),
  fn: async () => {
    const shared = await Deno.readFile(MODEL_PATH);
    const zoo = fakeZoo(shared);
    const prepared = prepareBackbone(decodeModel(zoo));
    assert.equal(prepared.tap, DEFAULT_TAP);
    assert.equal(prepared.input, "data");
    const g = prepared.model.graph!;
    assert.ok(!g.initializer.some((t) => t.name === "fc_w"));
    assert.deepEqual(g.output.map((v) => v.name), ["features"]);
    const bytes = encodeModel(prepared.model);
    const mine = await runOnce(bytes, 64);
    assert.deepEqual([...mine.dims], [1, 512, 8, 8]);
    assert.equal(maxAbsDiff(mine, await runOnce(shared, 64)), 0);

    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/zoo.onnx`, zoo);
      const code = await modelTask(["--from", `${dir}/zoo.onnx`, "--out", `${dir}/out.onnx`]);
      assert.equal(code, 0);
      assert.deepEqual(await Deno.readFile(`${dir}/out.onnx`), bytes);
      assert.equal(
        await modelTask(["--from", `${dir}/zoo.onnx`, "--out", `${dir}/x.onnx`, "--tap", "nope"]),
        1,
      );
      assert.ok(!exists(`${dir}/x.onnx`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("model task: an unreachable URL fails with one clear line", async () => {
  await assert.rejects(download("http://127.0.0.1:9/resnet50-v2-7.onnx"), (e: Error) => {
    assert.match(e.message, /^cannot download http:\/\/127\.0\.0\.1:9\/resnet50-v2-7\.onnx: /);
    assert.match(e.message, /--from FILE/);
    assert.ok(!e.message.includes("\n"), e.message);
    return true;
  });
});
