/**
 * A small WGSL reflector, so that the host code derives uniform layouts and bind-group entries
 * from the kernels instead of writing them by position:
 *
 * - {@link reflectStructs}: `struct Name { field: type, ... }` with the WGSL memory layout rules
 *   (alignment and size of scalars, vectors, matrices, arrays, atomics and nested structs;
 *   `@align(n)` and `@size(n)` honoured), and {@link writeStruct}, which fills such a struct
 *   from a `{field: value}` record and throws on an unknown or missing field;
 * - {@link reflectBindings}: the `@group(g) @binding(b) var<space[, access]> name: type`
 *   declarations;
 * - {@link reflectWorkgroupSize} and {@link reflectConst}: `@workgroup_size(...)` and
 *   `const NAME: u32 = 256u;` (literals and module constants).
 *
 * It parses the subset of WGSL the kernels in `kernels/` use (32-bit scalars, `f16` only in
 * types), not the whole language. Fields whose names start with `_` are padding: a writer may
 * omit them (they are written as 0).
 * @module
 */

/** A 32-bit (or f16) scalar type. */
export type ScalarType = "u32" | "i32" | "f32" | "f16" | "bool";

/** A reflected WGSL type with its host-shareable alignment and size in bytes. */
export type WgslType =
  & { align: number; size: number; text: string }
  & (
    | { kind: "scalar"; scalar: ScalarType }
    | { kind: "atomic"; scalar: ScalarType }
    | { kind: "vector"; scalar: ScalarType; count: number }
    | { kind: "matrix"; scalar: ScalarType; columns: number; rows: number; stride: number }
    | { kind: "array"; element: WgslType; count: number | null; stride: number }
    | { kind: "struct"; layout: StructLayout }
  );

/** A struct member at its byte offset. */
export interface StructField {
  name: string;
  offset: number;
  type: WgslType;
}

/** The memory layout of one WGSL struct. */
export interface StructLayout {
  name: string;
  /** Bytes, including the trailing padding to the struct's alignment. */
  size: number;
  align: number;
  fields: StructField[];
}

/** One `@group(g) @binding(b) var<...> name: type` declaration. */
export interface BindingDecl {
  group: number;
  binding: number;
  name: string;
  /** Address space (`uniform`, `storage`) or `handle` for textures and samplers. */
  space: string;
  /** `read` or `read_write` for storage; undefined otherwise. */
  access?: string;
  /** The declared type, as written (whitespace collapsed). */
  type: string;
}

/** A value for {@link writeStruct}: numbers for scalars, arrays for vectors, matrices and
 * arrays (matrices column-major), records for nested structs. */
export type StructValue = number | boolean | readonly StructValue[] | ArrayLike<number> | {
  readonly [field: string]: StructValue;
};

/** WGSL source without comments (line and nested block comments). */
export function stripComments(source: string): string {
  let out = "";
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const two = source.slice(i, i + 2);
    if (depth === 0 && two === "//") {
      while (i < source.length && source[i] !== "\n") i++;
      out += "\n";
    } else if (two === "/*") {
      depth++;
      i++;
    } else if (depth > 0 && two === "*/") {
      depth--;
      i++;
      out += " ";
    } else if (depth === 0) out += source[i];
  }
  return out;
}

/** Every struct declared in `source`, by name, in declaration order (later ones may nest
 * earlier ones). */
export function reflectStructs(source: string): Map<string, StructLayout> {
  const code = stripComments(source);
  const structs = new Map<string, StructLayout>();
  const re = /\bstruct\s+([A-Za-z_]\w*)\s*\{([^}]*)\}/g;
  for (const m of code.matchAll(re)) {
    const [, name, body] = m;
    const fields: StructField[] = [];
    let offset = 0, align = 1;
    for (const member of splitTopLevel(body)) {
      const fm = /^((?:@\w+\s*\([^)]*\)\s*)*)([A-Za-z_]\w*)\s*:\s*(.+)$/s.exec(member);
      if (!fm) throw new Error(`wgsl_reflect: struct ${name}: cannot parse member '${member}'`);
      const [, attrs, fieldName, typeText] = fm;
      const type = parseType(typeText, structs, `struct ${name}.${fieldName}`);
      let fieldAlign = type.align, fieldSize = type.size;
      for (const [, attr, arg] of attrs.matchAll(/@(\w+)\s*\(\s*([^)]*?)\s*\)/g)) {
        if (attr === "align") fieldAlign = Number(arg);
        else if (attr === "size") fieldSize = Number(arg);
      }
      if (type.kind === "array" && type.count === null && member !== lastOf(body)) {
        throw new Error(`wgsl_reflect: struct ${name}: runtime-sized ${fieldName} is not last`);
      }
      offset = roundUp(offset, fieldAlign);
      fields.push({ name: fieldName, offset, type });
      offset += fieldSize;
      align = Math.max(align, fieldAlign);
    }
    if (fields.length === 0) throw new Error(`wgsl_reflect: struct ${name} has no members`);
    structs.set(name, { name, size: roundUp(offset, align), align, fields });
  }
  return structs;
}

/** The layout of struct `name` in `source`; throws when there is none. */
export function reflectStruct(source: string, name: string): StructLayout {
  const layout = reflectStructs(source).get(name);
  if (!layout) throw new Error(`wgsl_reflect: no struct ${name} in the WGSL source`);
  return layout;
}

/**
 * Write `values` into a new buffer of `layout.size` bytes (or into `target` at `offset`).
 * Every field must be given except padding (names starting with `_`, written as 0); an unknown
 * field, a missing one, a value of the wrong shape or an out-of-range integer throws.
 */
export function writeStruct(
  layout: StructLayout,
  values: Readonly<Record<string, StructValue>>,
  target?: ArrayBuffer,
  offset = 0,
): ArrayBuffer {
  const buffer = target ?? new ArrayBuffer(layout.size);
  if (offset + layout.size > buffer.byteLength) {
    throw new Error(`wgsl_reflect: ${layout.name} does not fit the target buffer`);
  }
  writeStructAt(new DataView(buffer), offset, layout, values, layout.name);
  return buffer;
}

/** The `@group @binding var` declarations of `source`, sorted by group then binding. */
export function reflectBindings(source: string): BindingDecl[] {
  const code = stripComments(source);
  const out: BindingDecl[] = [];
  const re = /((?:@\w+\s*\([^)]*\)\s*)+)var\s*(?:<([^>]*)>)?\s*([A-Za-z_]\w*)\s*:\s*([^;=]+);/g;
  for (const [, attrs, spaceText, name, typeText] of code.matchAll(re)) {
    const group = /@group\s*\(\s*(\d+)\s*\)/.exec(attrs);
    const binding = /@binding\s*\(\s*(\d+)\s*\)/.exec(attrs);
    if (!group || !binding) continue;
    const [space, access] = (spaceText ?? "").split(",").map((s) => s.trim());
    out.push({
      group: Number(group[1]),
      binding: Number(binding[1]),
      name,
      space: space || "handle",
      ...(space === "storage" ? { access: access || "read" } : {}),
      type: typeText.replace(/\s+/g, " ").trim(),
    });
  }
  out.sort((a, b) => a.group - b.group || a.binding - b.binding);
  for (let i = 1; i < out.length; i++) {
    if (out[i].group === out[i - 1].group && out[i].binding === out[i - 1].binding) {
      throw new Error(
        `wgsl_reflect: @group(${out[i].group}) @binding(${out[i].binding}) is declared twice`,
      );
    }
  }
  return out;
}

/** The value of the module-scope `const name` (an integer or float literal, or a constant). */
export function reflectConst(source: string, name: string): number {
  return evalConst(stripComments(source), name, new Set());
}

/** `@workgroup_size(x[, y[, z]])` of the (first) compute entry point, constants resolved. */
export function reflectWorkgroupSize(source: string): [number, number, number] {
  const code = stripComments(source);
  const m = /@workgroup_size\s*\(([^)]*)\)/.exec(code);
  if (!m) throw new Error(`wgsl_reflect: no @workgroup_size in the WGSL source`);
  const dims = m[1].split(",").map((s) => s.trim()).filter((s) => s.length > 0)
    .map((s) => evalExpr(code, s, new Set()));
  return [dims[0], dims[1] ?? 1, dims[2] ?? 1];
}

// ---------------------------------------------------------------------------------------------

const SCALARS: Record<string, ScalarType> = {
  u32: "u32",
  i32: "i32",
  f32: "f32",
  f16: "f16",
  bool: "bool",
};
/** Shorthand aliases such as vec4f and mat4x4f. */
const SUFFIX: Record<string, ScalarType> = { f: "f32", u: "u32", i: "i32", h: "f16" };

function roundUp(n: number, k: number): number {
  return Math.ceil(n / k) * k;
}

/** Split `text` at commas outside of `<...>`, dropping empty pieces (trailing commas). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i <= text.length; i++) {
    const ch = text[i];
    if (ch === "<" || ch === "(") depth++;
    else if (ch === ">" || ch === ")") depth--;
    else if ((ch === "," && depth === 0) || i === text.length) {
      const part = text.slice(start, i).trim();
      if (part) parts.push(part);
      start = i + 1;
    }
  }
  return parts;
}

function lastOf(body: string): string {
  const parts = splitTopLevel(body);
  return parts[parts.length - 1];
}

function scalarBytes(s: ScalarType): number {
  return s === "f16" ? 2 : 4;
}

/** Parse a WGSL type expression; `where` names the place in errors. */
function parseType(text: string, structs: Map<string, StructLayout>, where: string): WgslType {
  const t = text.replace(/\s+/g, "");
  const scalar = SCALARS[t];
  if (scalar) {
    const n = scalarBytes(scalar);
    return { kind: "scalar", scalar, align: n, size: n, text: t };
  }
  const alias = /^(vec|mat)(\d)(?:x(\d))?([fuih])$/.exec(t);
  if (alias) {
    const [, what, a, b, s] = alias;
    return parseType(`${what}${a}${b ? `x${b}` : ""}<${SUFFIX[s]}>`, structs, where);
  }
  const generic = /^(\w+)<(.*)>$/.exec(t);
  if (generic) {
    const [, head, inner] = generic;
    const args = splitTopLevel(inner);
    const vec = /^vec(\d)$/.exec(head);
    if (vec) {
      const count = Number(vec[1]);
      const s = SCALARS[args[0]];
      if (!s || count < 2 || count > 4) throw new Error(`wgsl_reflect: ${where}: bad type ${t}`);
      const n = scalarBytes(s);
      return {
        kind: "vector",
        scalar: s,
        count,
        align: (count === 2 ? 2 : 4) * n,
        size: count * n,
        text: t,
      };
    }
    const mat = /^mat(\d)x(\d)$/.exec(head);
    if (mat) {
      const columns = Number(mat[1]), rows = Number(mat[2]);
      const column = parseType(`vec${rows}<${args[0]}>`, structs, where);
      if (column.kind !== "vector" || column.scalar === "bool") {
        throw new Error(`wgsl_reflect: ${where}: bad type ${t}`);
      }
      const stride = roundUp(column.size, column.align);
      return {
        kind: "matrix",
        scalar: column.scalar,
        columns,
        rows,
        stride,
        align: column.align,
        size: columns * stride,
        text: t,
      };
    }
    if (head === "atomic") {
      const s = SCALARS[args[0]];
      if (s !== "u32" && s !== "i32") throw new Error(`wgsl_reflect: ${where}: bad type ${t}`);
      return { kind: "atomic", scalar: s, align: 4, size: 4, text: t };
    }
    if (head === "array") {
      const element = parseType(args[0], structs, where);
      const stride = roundUp(element.size, element.align);
      if (args.length < 2) {
        return {
          kind: "array",
          element,
          count: null,
          stride,
          align: element.align,
          size: 0,
          text: t,
        };
      }
      const count = Number(args[1].replace(/[ui]$/, ""));
      if (!Number.isInteger(count) || count < 1) {
        throw new Error(`wgsl_reflect: ${where}: array count '${args[1]}' is not a literal`);
      }
      return {
        kind: "array",
        element,
        count,
        stride,
        align: element.align,
        size: count * stride,
        text: t,
      };
    }
  }
  const nested = structs.get(t);
  if (nested) {
    return { kind: "struct", layout: nested, align: nested.align, size: nested.size, text: t };
  }
  throw new Error(`wgsl_reflect: ${where}: unsupported or unknown type '${t}'`);
}

function writeStructAt(
  view: DataView,
  base: number,
  layout: StructLayout,
  values: Readonly<Record<string, StructValue>>,
  path: string,
): void {
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    throw new Error(`wgsl_reflect: ${path} must be a record of the struct's fields`);
  }
  const known = new Set(layout.fields.map((f) => f.name));
  const unknown = Object.keys(values).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new Error(
      `wgsl_reflect: ${path} has no field ${unknown.join(", ")} (fields: ${[...known].join(", ")})`,
    );
  }
  const missing = layout.fields.filter((f) => !f.name.startsWith("_") && !(f.name in values));
  if (missing.length > 0) {
    throw new Error(
      `wgsl_reflect: ${path}: field ${missing.map((f) => f.name).join(", ")} not written`,
    );
  }
  for (const f of layout.fields) {
    const v = values[f.name];
    if (v === undefined) continue; // padding
    writeValue(view, base + f.offset, f.type, v, `${path}.${f.name}`);
  }
}

function writeValue(
  view: DataView,
  at: number,
  type: WgslType,
  value: StructValue,
  path: string,
): void {
  switch (type.kind) {
    case "scalar":
    case "atomic":
      return writeScalar(view, at, type.scalar, value, path);
    case "vector":
      return writeList(
        value,
        type.count,
        path,
        (v, i) => writeScalar(view, at + i * scalarBytes(type.scalar), type.scalar, v, path),
      );
    case "matrix":
      return writeList(value, type.columns * type.rows, path, (v, i) => {
        const col = Math.floor(i / type.rows), row = i % type.rows;
        writeScalar(
          view,
          at + col * type.stride + row * scalarBytes(type.scalar),
          type.scalar,
          v,
          path,
        );
      });
    case "array":
      if (type.count === null) {
        throw new Error(`wgsl_reflect: ${path} is a runtime-sized array (not writable here)`);
      }
      return writeList(
        value,
        type.count,
        path,
        (v, i) => writeValue(view, at + i * type.stride, type.element, v, `${path}[${i}]`),
      );
    case "struct":
      return writeStructAt(
        view,
        at,
        type.layout,
        value as Readonly<Record<string, StructValue>>,
        path,
      );
  }
}

function writeList(
  value: StructValue,
  count: number,
  path: string,
  write: (v: StructValue, i: number) => void,
): void {
  const list = value as ArrayLike<StructValue>;
  if (typeof value !== "object" || value === null || typeof list.length !== "number") {
    throw new Error(`wgsl_reflect: ${path} needs ${count} values`);
  }
  if (list.length !== count) {
    throw new Error(`wgsl_reflect: ${path} needs ${count} values, got ${list.length}`);
  }
  for (let i = 0; i < count; i++) write(list[i], i);
}

function writeScalar(
  view: DataView,
  at: number,
  scalar: ScalarType,
  value: StructValue,
  path: string,
): void {
  const v = typeof value === "boolean" ? Number(value) : value;
  if (typeof v !== "number") throw new Error(`wgsl_reflect: ${path} must be a number`);
  switch (scalar) {
    case "f32":
      return view.setFloat32(at, v, true);
    case "f16":
      throw new Error(`wgsl_reflect: ${path}: writing f16 is not supported`);
    case "u32":
    case "bool":
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new Error(`wgsl_reflect: ${path} must be a u32, got ${v}`);
      }
      return view.setUint32(at, v, true);
    case "i32":
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
        throw new Error(`wgsl_reflect: ${path} must be an i32, got ${v}`);
      }
      return view.setInt32(at, v, true);
  }
}

function evalConst(code: string, name: string, seen: Set<string>): number {
  if (seen.has(name)) throw new Error(`wgsl_reflect: const ${name} refers to itself`);
  seen.add(name);
  const m = new RegExp(`\\bconst\\s+${name}\\s*(?::\\s*\\w+)?\\s*=\\s*([^;]+);`).exec(code);
  if (!m) throw new Error(`wgsl_reflect: no const ${name} in the WGSL source`);
  return evalExpr(code, m[1].trim(), seen);
}

/** A literal (`256u`, `1.5`, `0x10u`) or the name of another module constant. */
function evalExpr(code: string, expr: string, seen: Set<string>): number {
  const literal = /^(0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)[uif]?$/.exec(expr);
  if (literal) return Number(literal[1]);
  if (/^[A-Za-z_]\w*$/.test(expr)) return evalConst(code, expr, seen);
  throw new Error(`wgsl_reflect: cannot evaluate '${expr}' (only literals and constants)`);
}
