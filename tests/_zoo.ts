/** A stand-in for the ONNX model zoo's resnet50-v2-7, built from the shared backbone. */
import {
  decodeModel,
  encodeModel,
  makeFloatTensor,
  makeNode,
  makeValueInfo,
} from "../src/features/onnx_proto.ts";
import { DEFAULT_TAP } from "../src/features/model_fetch.ts";

/** Deterministic pseudo-random values in [-1, 1). */
export function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A stand-in for the zoo model: the shared backbone renamed, with a classifier-ish tail. */
export function fakeZoo(shared: Uint8Array): Uint8Array {
  const m = decodeModel(shared);
  const g = m.graph!;
  const ren = (s: string) => s === "input" ? "data" : s === "features" ? DEFAULT_TAP : s;
  for (const n of g.node) {
    n.input = n.input.map(ren);
    n.output = n.output.map(ren);
  }
  g.input = [makeValueInfo("data", [1, 3, 224, 224])];
  g.node.push(
    makeNode("GlobalAveragePool", [DEFAULT_TAP], ["pool"]),
    makeNode("Flatten", ["pool"], ["flat"]),
    makeNode("MatMul", ["flat", "fc_w"], ["resnetv24_dense0_fwd"]),
  );
  g.initializer.push(makeFloatTensor("fc_w", [512, 2], noise(1024, 9)));
  g.output = [makeValueInfo("resnetv24_dense0_fwd", [1, 2])];
  g.valueInfo = [makeValueInfo(DEFAULT_TAP, [1, 512, 28, 28])];
  return encodeModel(m);
}
