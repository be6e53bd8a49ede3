/**
 * Graph surgery: cut any ONNX model at chosen intermediate tensors ("taps"), making them the
 * graph outputs and pruning everything not needed to compute them.
 * @module
 */

import {
  attributeSubgraphs,
  encodeTensorType,
  FLOAT,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxValueInfo,
} from "./onnx_proto.ts";

/** Options of {@link cutGraph}. */
export interface CutOptions {
  /** Tensor names that become the graph outputs, in this order. */
  outputs: string[];
  /** Tensor renames applied after the cut (e.g. `{data: "input", tap: "features"}`). */
  rename?: Record<string, string>;
}

/**
 * Cut `model` so that `outputs` are its graph outputs: keep only the nodes needed to compute
 * them, drop unused initializers and graph inputs, and give each output a ValueInfo (its
 * existing type/shape annotation if the model has one, else FLOAT of unknown shape).
 * The input model is not modified; unchanged parts (initializer data included) are shared.
 */
export function cutGraph(model: OnnxModel, opts: CutOptions): OnnxModel {
  const g = model.graph;
  if (!g) throw new Error("cutGraph: model has no graph");
  if (opts.outputs.length === 0) throw new Error("cutGraph: no output tensors given");

  const producer = new Map<string, OnnxNode>();
  for (const n of g.node) for (const o of n.output) if (o) producer.set(o, n);
  const initNames = new Set(g.initializer.map((t) => t.name ?? ""));
  const inputNames = new Set(g.input.map((v) => v.name));

  for (const name of opts.outputs) {
    if (!producer.has(name) && !initNames.has(name) && !inputNames.has(name)) {
      const all = [...producer.keys(), ...inputNames];
      const near = nearMatches(name, all);
      const hint = near.length ? ` (did you mean: ${near.join(", ")}?)` : "";
      throw new Error(`cutGraph: tensor '${name}' not found in the graph${hint}`);
    }
  }

  // Walk back from the taps; control-flow nodes also read outer tensors inside their bodies.
  const needed = new Set<string>();
  const keep = new Set<OnnxNode>();
  const stack = [...opts.outputs];
  while (stack.length) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    const node = producer.get(name);
    if (!node || keep.has(node)) continue;
    keep.add(node);
    for (const i of node.input) if (i) stack.push(i);
    for (const i of implicitInputs(node)) stack.push(i);
  }

  const typeOf = new Map<string, Uint8Array>();
  for (const v of [...g.valueInfo, ...g.input, ...g.output]) if (v.type) typeOf.set(v.name, v.type);
  for (const t of g.initializer) {
    if (t.name && !typeOf.has(t.name)) {
      typeOf.set(t.name, encodeTensorType(t.dataType ?? FLOAT, t.dims));
    }
  }
  const outputSet = new Set(opts.outputs);
  const output: OnnxValueInfo[] = opts.outputs.map((name) => {
    const old = g.output.find((v) => v.name === name) ?? g.valueInfo.find((v) => v.name === name);
    if (old) return { ...old, unknown: [...old.unknown] };
    return { name, type: typeOf.get(name) ?? encodeTensorType(FLOAT), unknown: [] };
  });

  const produced = new Set<string>();
  for (const n of keep) for (const o of n.output) produced.add(o);
  const cut: OnnxGraph = {
    ...g,
    node: g.node.filter((n) => keep.has(n)),
    initializer: g.initializer.filter((t) => needed.has(t.name ?? "")),
    input: g.input.filter((v) => needed.has(v.name)),
    output,
    valueInfo: g.valueInfo.filter((v) => produced.has(v.name) && !outputSet.has(v.name)),
  };
  const result: OnnxModel = { ...model, graph: cut };
  return opts.rename ? renameTensors(result, opts.rename) : result;
}

/** Rename tensors throughout the main graph (nodes, inputs, outputs, value info, weights). */
export function renameTensors(model: OnnxModel, rename: Record<string, string>): OnnxModel {
  const g = model.graph;
  if (!g) throw new Error("renameTensors: model has no graph");
  const map = new Map(Object.entries(rename).filter(([a, b]) => a !== b));
  if (map.size === 0) return model;
  const names = allTensorNames(g);
  for (const [from, to] of map) {
    if (!names.has(from)) {
      throw new Error(`renameTensors: tensor '${from}' not found in the graph`);
    }
    if (names.has(to) && !map.has(to)) {
      throw new Error(`renameTensors: cannot rename '${from}' to '${to}': name already used`);
    }
  }
  for (const n of g.node) {
    for (const i of implicitInputs(n)) {
      if (map.has(i)) {
        throw new Error(`renameTensors: '${i}' is read inside a subgraph of node '${n.name}'`);
      }
    }
  }
  const r = (s: string) => map.get(s) ?? s;
  const rv = (v: OnnxValueInfo): OnnxValueInfo => ({ ...v, name: r(v.name) });
  return {
    ...model,
    graph: {
      ...g,
      node: g.node.map((n) => ({ ...n, input: n.input.map(r), output: n.output.map(r) })),
      initializer: g.initializer.map((t) => (t.name ? { ...t, name: r(t.name) } : t)),
      input: g.input.map(rv),
      output: g.output.map(rv),
      valueInfo: g.valueInfo.map(rv),
    },
  };
}

/** Every tensor name defined or used in the main graph. */
function allTensorNames(g: OnnxGraph): Set<string> {
  const s = new Set<string>();
  for (const n of g.node) for (const x of [...n.input, ...n.output]) if (x) s.add(x);
  for (const t of g.initializer) if (t.name) s.add(t.name);
  for (const v of [...g.input, ...g.output, ...g.valueInfo]) s.add(v.name);
  return s;
}

/** Outer-scope tensors a node's subgraph attributes read (empty for ordinary nodes). */
function implicitInputs(node: OnnxNode): string[] {
  const out: string[] = [];
  for (const a of node.attribute) {
    for (const sub of attributeSubgraphs(a)) out.push(...freeNames(sub));
  }
  return out;
}

function freeNames(g: OnnxGraph): string[] {
  const local = new Set<string>();
  for (const v of g.input) local.add(v.name);
  for (const t of g.initializer) if (t.name) local.add(t.name);
  for (const n of g.node) for (const o of n.output) local.add(o);
  const free: string[] = [];
  for (const n of g.node) {
    for (const i of [...n.input, ...implicitInputs(n)]) if (i && !local.has(i)) free.push(i);
  }
  for (const v of g.output) if (!local.has(v.name)) free.push(v.name);
  return free;
}

/** Up to `max` candidates closest to `name` (substring hits first, then edit distance). */
export function nearMatches(name: string, candidates: Iterable<string>, max = 5): string[] {
  const q = name.toLowerCase();
  const scored = [...new Set(candidates)].map((c) => {
    const lc = c.toLowerCase();
    const sub = lc.includes(q) || q.includes(lc) ? 0 : 1;
    return { c, sub, d: editDistance(q, lc) };
  });
  const limit = Math.max(3, Math.floor(name.length / 2));
  return scored.filter((s) => s.sub === 0 || s.d <= limit)
    .sort((a, b) => a.sub - b.sub || a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, max).map((s) => s.c);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
