/**
 * Minimal, dependency-free reader/writer for the subset of the ONNX `ModelProto` that graph
 * surgery needs (model, graph, node, value info, initializer names, opset imports).
 *
 * Every field this module does not interpret is kept as its raw encoded bytes and written back
 * untouched, in field-number order, so `encodeModel(decodeModel(bytes))` is an equivalent model
 * (byte-identical for files written by the reference C++/Python serialiser). Initializer data is
 * never copied on read: it stays a view into the input buffer.
 *
 * Field numbers follow onnx/onnx.proto (proto2 syntax).
 * @module
 */
import { concatBytes } from "../base/bytes.ts";

/** One encoded protobuf field kept verbatim: its number (for ordering) and its full bytes. */
export interface RawField {
  /** Field number, used to place the field when re-serialising. */
  field: number;
  /** The complete encoded field: tag, then payload. */
  bytes: Uint8Array;
}

/** `OperatorSetIdProto`: an opset import such as `{domain: "", version: 13}`. */
export interface OnnxOpset {
  /** Operator domain ("" or "ai.onnx" is the default domain). */
  domain?: string;
  /** Opset version. */
  version?: number;
  /** Fields not interpreted here. */
  unknown: RawField[];
}

/** `AttributeProto`, kept raw except for its name (graph surgery never edits attributes). */
export interface OnnxAttribute {
  /** Attribute name, e.g. "kernel_shape". */
  name: string;
  /** The encoded AttributeProto message body (without tag/length), including the name. */
  raw: Uint8Array;
}

/** `NodeProto`: one operator application. */
export interface OnnxNode {
  /** Input tensor names ("" marks an omitted optional input). */
  input: string[];
  /** Output tensor names. */
  output: string[];
  /** Node name (optional in ONNX). */
  name?: string;
  /** Operator type, e.g. "Conv". */
  opType?: string;
  /** Operator domain. */
  domain?: string;
  /** Attributes, kept raw. */
  attribute: OnnxAttribute[];
  /** Documentation string. */
  docString?: string;
  /** Fields not interpreted here. */
  unknown: RawField[];
}

/** `ValueInfoProto`: a named value with an (opaque, raw-encoded) `TypeProto`. */
export interface OnnxValueInfo {
  /** Tensor name. */
  name: string;
  /** Encoded `TypeProto` body; see {@link decodeTensorType} / {@link encodeTensorType}. */
  type?: Uint8Array;
  /** Documentation string. */
  docString?: string;
  /** Fields not interpreted here. */
  unknown: RawField[];
}

/** `TensorProto` (an initializer): name, dims and data type decoded; the payload stays raw. */
export interface OnnxTensor {
  /** Tensor name. */
  name?: string;
  /** Dimensions. */
  dims: number[];
  /** `TensorProto.DataType` (1 = FLOAT). */
  dataType?: number;
  /** Data and every other field, kept raw (views into the source buffer). */
  unknown: RawField[];
}

/** `GraphProto`. */
export interface OnnxGraph {
  /** Nodes in topological order. */
  node: OnnxNode[];
  /** Graph name. */
  name?: string;
  /** Constant tensors (weights). */
  initializer: OnnxTensor[];
  /** Documentation string. */
  docString?: string;
  /** Graph inputs (older IR versions also list initializers here). */
  input: OnnxValueInfo[];
  /** Graph outputs. */
  output: OnnxValueInfo[];
  /** Shape/type annotations of intermediate values. */
  valueInfo: OnnxValueInfo[];
  /** Fields not interpreted here (sparse initializers, quantisation annotations, ...). */
  unknown: RawField[];
}

/** `ModelProto`. */
export interface OnnxModel {
  /** IR version. */
  irVersion?: number;
  /** Producer name. */
  producerName?: string;
  /** Producer version. */
  producerVersion?: string;
  /** Model domain. */
  domain?: string;
  /** Model version. */
  modelVersion?: number;
  /** Documentation string. */
  docString?: string;
  /** The graph. */
  graph?: OnnxGraph;
  /** Opset imports. */
  opsetImport: OnnxOpset[];
  /** Fields not interpreted here (metadata, functions, training info, ...). */
  unknown: RawField[];
}

/** Decoded `TypeProto.Tensor`: element type and dims (number, symbolic name, or null = unknown). */
export interface TensorTypeInfo {
  /** `TensorProto.DataType` of the elements (1 = FLOAT). */
  elemType: number;
  /** Dimensions, or undefined when the rank is unknown. */
  dims?: (number | string | null)[];
}

/** `TensorProto.DataType.FLOAT`. */
export const FLOAT = 1;

// ---------------------------------------------------------------------------------------------
// Wire-format reading

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const utf8 = new TextDecoder("utf-8", { fatal: false });
const utf8Enc = new TextEncoder();

/** Sequential reader over one message body. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly what: string) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  fail(msg: string): never {
    throw new Error(`malformed ONNX protobuf (${this.what}, byte ${this.pos}): ${msg}`);
  }

  /** A varint as a JS number; exact below 2^53 (lengths, tags, small ints). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    this.fail("varint longer than 10 bytes");
  }

  /** A varint interpreted as a two's complement int64, returned as a number. */
  int64(): number {
    let v = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(BigInt.asIntN(64, v));
      shift += 7n;
    }
    this.fail("varint longer than 10 bytes");
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) this.fail(`length ${n} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** Skip the payload of a field with the given wire type. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        break;
      case WIRE_I64:
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.bytes();
        break;
      case WIRE_I32:
        this.pos += 4;
        break;
      default:
        this.fail(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.buf.length) this.fail("field runs past the end");
  }

  /** Iterate fields; `handle` returns false for fields it does not interpret (kept raw). */
  fields(unknown: RawField[] | null, handle: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const start = this.pos;
      const tag = this.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) this.fail("field number 0");
      if (!handle(field, wire)) {
        this.skip(wire);
        unknown?.push({ field, bytes: this.buf.subarray(start, this.pos) });
      }
    }
  }

  /** Read repeated int64 values, packed or not. */
  int64s(wire: number, out: number[]): void {
    if (wire === WIRE_LEN) {
      const sub = new Reader(this.bytes(), this.what);
      while (!sub.done) out.push(sub.int64());
    } else out.push(this.int64());
  }
}

function decodeOpset(buf: Uint8Array): OnnxOpset {
  const r = new Reader(buf, "OperatorSetIdProto");
  const o: OnnxOpset = { unknown: [] };
  r.fields(o.unknown, (f, w) => {
    if (f === 1 && w === WIRE_LEN) o.domain = r.string();
    else if (f === 2 && w === WIRE_VARINT) o.version = r.int64();
    else return false;
    return true;
  });
  return o;
}

function decodeAttribute(buf: Uint8Array): OnnxAttribute {
  const r = new Reader(buf, "AttributeProto");
  let name = "";
  r.fields(null, (f, w) => {
    if (f === 1 && w === WIRE_LEN) {
      name = r.string();
      return true;
    }
    return false;
  });
  return { name, raw: buf };
}

function decodeNode(buf: Uint8Array): OnnxNode {
  const r = new Reader(buf, "NodeProto");
  const n: OnnxNode = { input: [], output: [], attribute: [], unknown: [] };
  r.fields(n.unknown, (f, w) => {
    if (w !== WIRE_LEN) return false;
    if (f === 1) n.input.push(r.string());
    else if (f === 2) n.output.push(r.string());
    else if (f === 3) n.name = r.string();
    else if (f === 4) n.opType = r.string();
    else if (f === 7) n.domain = r.string();
    else if (f === 5) n.attribute.push(decodeAttribute(r.bytes()));
    else if (f === 6) n.docString = r.string();
    else return false;
    return true;
  });
  return n;
}

function decodeValueInfo(buf: Uint8Array): OnnxValueInfo {
  const r = new Reader(buf, "ValueInfoProto");
  const v: OnnxValueInfo = { name: "", unknown: [] };
  r.fields(v.unknown, (f, w) => {
    if (w !== WIRE_LEN) return false;
    if (f === 1) v.name = r.string();
    else if (f === 2) v.type = r.bytes();
    else if (f === 3) v.docString = r.string();
    else return false;
    return true;
  });
  return v;
}

function decodeTensor(buf: Uint8Array): OnnxTensor {
  const r = new Reader(buf, "TensorProto");
  const t: OnnxTensor = { dims: [], unknown: [] };
  r.fields(t.unknown, (f, w) => {
    if (f === 1 && (w === WIRE_VARINT || w === WIRE_LEN)) r.int64s(w, t.dims);
    else if (f === 2 && w === WIRE_VARINT) t.dataType = r.int64();
    else if (f === 8 && w === WIRE_LEN) t.name = r.string();
    else return false;
    return true;
  });
  return t;
}

/** Decode a `GraphProto` message body. */
export function decodeGraph(buf: Uint8Array): OnnxGraph {
  const r = new Reader(buf, "GraphProto");
  const g: OnnxGraph = {
    node: [],
    initializer: [],
    input: [],
    output: [],
    valueInfo: [],
    unknown: [],
  };
  r.fields(g.unknown, (f, w) => {
    if (w !== WIRE_LEN) return false;
    if (f === 1) g.node.push(decodeNode(r.bytes()));
    else if (f === 2) g.name = r.string();
    else if (f === 5) g.initializer.push(decodeTensor(r.bytes()));
    else if (f === 10) g.docString = r.string();
    else if (f === 11) g.input.push(decodeValueInfo(r.bytes()));
    else if (f === 12) g.output.push(decodeValueInfo(r.bytes()));
    else if (f === 13) g.valueInfo.push(decodeValueInfo(r.bytes()));
    else return false;
    return true;
  });
  return g;
}

/** Decode a serialised ONNX `ModelProto` (the bytes of a .onnx file). Views, does not copy. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const r = new Reader(bytes, "ModelProto");
  const m: OnnxModel = { opsetImport: [], unknown: [] };
  r.fields(m.unknown, (f, w) => {
    if (f === 1 && w === WIRE_VARINT) m.irVersion = r.int64();
    else if (f === 2 && w === WIRE_LEN) m.producerName = r.string();
    else if (f === 3 && w === WIRE_LEN) m.producerVersion = r.string();
    else if (f === 4 && w === WIRE_LEN) m.domain = r.string();
    else if (f === 5 && w === WIRE_VARINT) m.modelVersion = r.int64();
    else if (f === 6 && w === WIRE_LEN) m.docString = r.string();
    else if (f === 7 && w === WIRE_LEN) m.graph = decodeGraph(r.bytes());
    else if (f === 8 && w === WIRE_LEN) m.opsetImport.push(decodeOpset(r.bytes()));
    else return false;
    return true;
  });
  if (!m.graph) throw new Error("malformed ONNX model: no graph (is this an .onnx file?)");
  return m;
}

/**
 * Subgraphs held by an attribute (`If`/`Loop`/`Scan` bodies), decoded; empty for other kinds.
 * Needed to see which outer-scope tensors a control-flow node reads implicitly.
 */
export function attributeSubgraphs(attr: OnnxAttribute): OnnxGraph[] {
  const r = new Reader(attr.raw, "AttributeProto");
  const out: OnnxGraph[] = [];
  r.fields(null, (f, w) => {
    if ((f === 6 || f === 11) && w === WIRE_LEN) {
      out.push(decodeGraph(r.bytes()));
      return true;
    }
    return false;
  });
  return out;
}

/** Decode a `TypeProto` body; undefined when it is not a tensor type. */
export function decodeTensorType(type: Uint8Array): TensorTypeInfo | undefined {
  const r = new Reader(type, "TypeProto");
  let info: TensorTypeInfo | undefined;
  r.fields(null, (f, w) => {
    if (f !== 1 || w !== WIRE_LEN) return false;
    const t = new Reader(r.bytes(), "TypeProto.Tensor");
    info = { elemType: 0 };
    t.fields(null, (tf, tw) => {
      if (tf === 1 && tw === WIRE_VARINT) info!.elemType = t.int64();
      else if (tf === 2 && tw === WIRE_LEN) {
        const dims: (number | string | null)[] = [];
        const s = new Reader(t.bytes(), "TensorShapeProto");
        s.fields(null, (sf, sw) => {
          if (sf !== 1 || sw !== WIRE_LEN) return false;
          const d = new Reader(s.bytes(), "TensorShapeProto.Dimension");
          let dim: number | string | null = null;
          d.fields(null, (df, dw) => {
            if (df === 1 && dw === WIRE_VARINT) dim = d.int64();
            else if (df === 2 && dw === WIRE_LEN) dim = d.string();
            else return false;
            return true;
          });
          dims.push(dim);
          return true;
        });
        info!.dims = dims;
      } else return false;
      return true;
    });
    return true;
  });
  return info;
}

// ---------------------------------------------------------------------------------------------
// Wire-format writing: messages are built as chunk lists so large payloads are copied only once.

/** An encoded message under construction: byte chunks tagged with their field numbers. */
class Builder {
  private entries: { field: number; parts: Uint8Array[]; length: number }[] = [];

  get length(): number {
    let n = 0;
    for (const e of this.entries) n += e.length;
    return n;
  }

  private add(field: number, parts: Uint8Array[]): void {
    let length = 0;
    for (const p of parts) length += p.length;
    this.entries.push({ field, parts, length });
  }

  raw(fields: RawField[]): this {
    for (const f of fields) this.add(f.field, [f.bytes]);
    return this;
  }

  varint(field: number, value: number | undefined): this {
    if (value !== undefined) {
      this.add(field, [varintBytes(field * 8 + WIRE_VARINT), int64Bytes(value)]);
    }
    return this;
  }

  varints(field: number, values: number[]): this {
    for (const v of values) this.varint(field, v);
    return this;
  }

  bytes(field: number, value: Uint8Array | undefined): this {
    if (value !== undefined) {
      this.add(field, [varintBytes(field * 8 + WIRE_LEN), varintBytes(value.length), value]);
    }
    return this;
  }

  string(field: number, value: string | undefined): this {
    return value === undefined ? this : this.bytes(field, utf8Enc.encode(value));
  }

  strings(field: number, values: string[]): this {
    for (const v of values) this.string(field, v);
    return this;
  }

  message(field: number, msg: Builder | undefined): this {
    if (msg === undefined) return this;
    const len = msg.length;
    this.add(field, [varintBytes(field * 8 + WIRE_LEN), varintBytes(len), ...msg.parts()]);
    return this;
  }

  messages<T>(field: number, items: T[], enc: (t: T) => Builder): this {
    for (const it of items) this.message(field, enc(it));
    return this;
  }

  /** All chunks in field-number order (stable, so repeated fields keep their order). */
  parts(): Uint8Array[] {
    const sorted = this.entries.map((e, i) => ({ e, i }))
      .sort((a, b) => a.e.field - b.e.field || a.i - b.i);
    return sorted.flatMap(({ e }) => e.parts);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const p of this.parts()) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

function varintBytes(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return new Uint8Array(out);
}

function int64Bytes(v: number): Uint8Array {
  if (v >= 0 && Number.isSafeInteger(v)) return varintBytes(v);
  let u = BigInt.asUintN(64, BigInt(Math.trunc(v)));
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return new Uint8Array(out);
}

function encOpset(o: OnnxOpset): Builder {
  return new Builder().string(1, o.domain).varint(2, o.version).raw(o.unknown);
}

function encAttribute(a: OnnxAttribute): Builder {
  return new Builder().raw([{ field: 0, bytes: a.raw }]);
}

function encNode(n: OnnxNode): Builder {
  return new Builder().strings(1, n.input).strings(2, n.output).string(3, n.name)
    .string(4, n.opType).messages(5, n.attribute, encAttribute).string(6, n.docString)
    .string(7, n.domain).raw(n.unknown);
}

function encValueInfo(v: OnnxValueInfo): Builder {
  return new Builder().string(1, v.name).bytes(2, v.type).string(3, v.docString).raw(v.unknown);
}

function encTensor(t: OnnxTensor): Builder {
  return new Builder().varints(1, t.dims).varint(2, t.dataType).string(8, t.name).raw(t.unknown);
}

function encGraph(g: OnnxGraph): Builder {
  return new Builder().messages(1, g.node, encNode).string(2, g.name)
    .messages(5, g.initializer, encTensor).string(10, g.docString)
    .messages(11, g.input, encValueInfo).messages(12, g.output, encValueInfo)
    .messages(13, g.valueInfo, encValueInfo).raw(g.unknown);
}

/** Serialise a graph to a `GraphProto` message body. */
export function encodeGraph(graph: OnnxGraph): Uint8Array {
  return encGraph(graph).finish();
}

/** Serialise a model to the bytes of a .onnx file. */
export function encodeModel(model: OnnxModel): Uint8Array {
  return new Builder().varint(1, model.irVersion).string(2, model.producerName)
    .string(3, model.producerVersion).string(4, model.domain).varint(5, model.modelVersion)
    .string(6, model.docString).message(7, model.graph && encGraph(model.graph))
    .messages(8, model.opsetImport, encOpset).raw(model.unknown).finish();
}

// ---------------------------------------------------------------------------------------------
// Constructors for building small models (tests, tooling)

/** Encode a tensor `TypeProto`; `dims` undefined = unknown rank, null entries = unknown dims. */
export function encodeTensorType(
  elemType: number,
  dims?: (number | string | null)[],
): Uint8Array {
  const tensor = new Builder().varint(1, elemType);
  if (dims) {
    const shape = new Builder();
    for (const d of dims) {
      const dim = new Builder();
      if (typeof d === "number") dim.varint(1, d);
      else if (typeof d === "string") dim.string(2, d);
      shape.message(1, dim);
    }
    tensor.message(2, shape);
  }
  return new Builder().message(1, tensor).finish();
}

/** A value info for a tensor of `elemType` (default FLOAT) with the given dims. */
export function makeValueInfo(
  name: string,
  dims?: (number | string | null)[],
  elemType = FLOAT,
): OnnxValueInfo {
  return { name, type: encodeTensorType(elemType, dims), unknown: [] };
}

/** A FLOAT initializer holding `data` (stored as raw_data, little-endian). */
export function makeFloatTensor(name: string, dims: number[], data: Float32Array): OnnxTensor {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`tensor ${name}: ${data.length} values for dims [${dims.join(",")}]`);
  }
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  const field = new Builder().bytes(9, bytes).finish(); // raw_data = 9
  return { name, dims: [...dims], dataType: FLOAT, unknown: [{ field: 9, bytes: field }] };
}

/** Attribute value kinds supported by {@link makeAttribute}. */
export type AttributeValue =
  | { int: number }
  | { ints: number[] }
  | { float: number }
  | { floats: number[] }
  | { string: string };

/** Build an `AttributeProto` (INT, INTS, FLOAT, FLOATS or STRING). */
export function makeAttribute(name: string, value: AttributeValue): OnnxAttribute {
  const b = new Builder().string(1, name);
  const f32 = (x: number) => {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setFloat32(0, x, true);
    return out;
  };
  const fixed32 = (field: number, x: number) =>
    b.raw([{ field, bytes: concatBytes([varintBytes(field * 8 + WIRE_I32), f32(x)]) }]);
  if ("int" in value) b.varint(3, value.int).varint(20, 2);
  else if ("ints" in value) b.varints(8, value.ints).varint(20, 7);
  else if ("float" in value) fixed32(2, value.float).varint(20, 1);
  else if ("floats" in value) {
    for (const x of value.floats) fixed32(7, x);
    b.varint(20, 6);
  } else b.bytes(4, utf8Enc.encode(value.string)).varint(20, 3);
  return { name, raw: b.finish() };
}

/** Build a node. */
export function makeNode(
  opType: string,
  input: string[],
  output: string[],
  opts: { name?: string; domain?: string; attribute?: OnnxAttribute[] } = {},
): OnnxNode {
  return {
    input: [...input],
    output: [...output],
    name: opts.name,
    opType,
    domain: opts.domain,
    attribute: opts.attribute ?? [],
    unknown: [],
  };
}

/** Build a model around `graph` with the given default-domain opset (IR version 8). */
export function makeModel(graph: OnnxGraph, opset = 13, irVersion = 8): OnnxModel {
  return {
    irVersion,
    producerName: "fca",
    graph,
    opsetImport: [{ domain: "", version: opset, unknown: [] }],
    unknown: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Streaming signature read: graph inputs/outputs without loading a (possibly large) model.

/** Graph inputs, outputs and initializer names of a model file. */
export interface GraphSignature {
  /** Graph inputs (may include initializers in IR < 4 models). */
  inputs: OnnxValueInfo[];
  /** Graph outputs. */
  outputs: OnnxValueInfo[];
  /** Names of all initializers. */
  initializerNames: Set<string>;
}

/**
 * Random access to a model's bytes: a file read through a window (a model on disk need not fit
 * in memory to be described) or bytes already in memory (the browser app).
 */
interface ByteSource {
  readonly size: number;
  /** Bytes [pos, pos + n) (fewer at the end). */
  read(pos: number, n: number): Promise<Uint8Array>;
}

/** Read-through window over a file, so field scanning costs few reads and little memory. */
function fileSource(file: Deno.FsFile, size: number, path: string): ByteSource {
  let start = 0, data = new Uint8Array(0);
  return {
    size,
    async read(pos, n) {
      n = Math.min(n, size - pos);
      if (pos < start || pos + n > start + data.length) {
        const len = Math.min(Math.max(n, 1 << 16), size - pos);
        const buf = new Uint8Array(len);
        await file.seek(pos, Deno.SeekMode.Start);
        let off = 0;
        while (off < len) {
          const got = await file.read(buf.subarray(off));
          if (got === null) throw new Error(`${path}: file shrank while reading`);
          off += got;
        }
        start = pos;
        data = buf;
      }
      return data.subarray(pos - start, pos - start + n);
    },
  };
}

/** Protobuf field scanning over a {@link ByteSource}. */
class FieldScanner {
  constructor(private source: ByteSource, readonly path: string) {}

  get size(): number {
    return this.source.size;
  }

  get(pos: number, n: number): Promise<Uint8Array> {
    return this.source.read(pos, n);
  }

  /** Visit the fields in [start, end): number, wire type, payload range. */
  async scan(
    start: number,
    end: number,
    visit: (field: number, wire: number, from: number, to: number) => Promise<void> | void,
  ): Promise<void> {
    let pos = start;
    while (pos < end) {
      const head = new Reader(await this.get(pos, 20), `${this.path}`);
      const tag = head.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      let from = pos + head.pos;
      let to: number;
      if (wire === WIRE_LEN) {
        const len = head.varint();
        from = pos + head.pos;
        to = from + len;
      } else if (wire === WIRE_VARINT) {
        head.varint();
        to = pos + head.pos;
      } else if (wire === WIRE_I64) to = from + 8;
      else if (wire === WIRE_I32) to = from + 4;
      else {throw new Error(
          `malformed ONNX protobuf (${this.path}, byte ${pos}): wire type ${wire}`,
        );}
      if (to > end) {
        throw new Error(`malformed ONNX protobuf (${this.path}, byte ${pos}): truncated`);
      }
      await visit(field, wire, from, to);
      pos = to;
    }
  }
}

/**
 * Read a model file's graph inputs, outputs and initializer names by scanning the protobuf
 * fields, skipping weight payloads, so memory stays small for any model size.
 */
export async function readGraphSignature(path: string): Promise<GraphSignature> {
  const file = await Deno.open(path, { read: true });
  try {
    return await scanSignature(
      new FieldScanner(fileSource(file, (await file.stat()).size, path), path),
    );
  } finally {
    file.close();
  }
}

/** {@link readGraphSignature} of a model in memory (`name` names it in messages). */
export function graphSignatureOf(bytes: Uint8Array, name = "model"): Promise<GraphSignature> {
  const source: ByteSource = {
    size: bytes.length,
    read: (pos, n) => Promise.resolve(bytes.subarray(pos, Math.min(pos + n, bytes.length))),
  };
  return scanSignature(new FieldScanner(source, name));
}

async function scanSignature(w: FieldScanner): Promise<GraphSignature> {
  const sig: GraphSignature = { inputs: [], outputs: [], initializerNames: new Set() };
  let sawGraph = false;
  await w.scan(0, w.size, async (f, wire, from, to) => {
    if (f !== 7 || wire !== WIRE_LEN) return;
    sawGraph = true;
    await w.scan(from, to, async (gf, gw, gFrom, gTo) => {
      if (gw !== WIRE_LEN) return;
      if (gf === 11 || gf === 12) {
        const v = decodeValueInfo((await w.get(gFrom, gTo - gFrom)).slice());
        (gf === 11 ? sig.inputs : sig.outputs).push(v);
      } else if (gf === 5) {
        await w.scan(gFrom, gTo, async (tf, tw, tFrom, tTo) => {
          if (tf === 8 && tw === WIRE_LEN) {
            sig.initializerNames.add(utf8.decode(await w.get(tFrom, tTo - tFrom)));
          }
        });
      }
    });
  });
  if (!sawGraph) throw new Error(`${w.path}: not an ONNX model (no graph)`);
  return sig;
}
