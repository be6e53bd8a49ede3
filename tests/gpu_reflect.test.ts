/**
 * The WGSL reflector and the kernel table (src/gpu/wgsl_reflect.ts, src/gpu/kernels.ts) against
 * the kernels in `kernels/`. No GPU needed: this is text.
 */
import assert from "node:assert/strict";
import { loadKernel } from "../src/gpu/kernel_source.ts";
import {
  bindGroupEntries,
  checkBindingNames,
  dispatchOf,
  KERNEL_NAMES,
  type KernelName,
  KERNELS,
} from "../src/gpu/kernels.ts";
import {
  reflectBindings,
  reflectConst,
  reflectStruct,
  reflectWorkgroupSize,
  writeStruct,
} from "../src/gpu/wgsl_reflect.ts";

const KERNEL_DIR = new URL("../kernels/", import.meta.url);

/** Names of the kernel files in kernels/ (not kernels/lib/). */
function kernelFiles(): string[] {
  return [...Deno.readDirSync(KERNEL_DIR)]
    .filter((e) => e.isFile && e.name.endsWith(".wgsl"))
    .map((e) => e.name.slice(0, -5))
    .sort();
}

/** Every field's offset, as a record. */
function offsets(source: string, name: string): Record<string, number> {
  return Object.fromEntries(reflectStruct(source, name).fields.map((f) => [f.name, f.offset]));
}

Deno.test("reflected Dims and StatsDims equal the hand-computed WGSL layout", async () => {
  const dims = reflectStruct(await loadKernel("lib/fca_dims"), "Dims");
  // 15 named 32-bit fields and one pad, 4-byte aligned: field i at 4·i.
  const names = [
    "channels",
    "height",
    "width",
    "side",
    "tilesX",
    "tilesY",
    "outHeight",
    "outWidth",
    "windowsPerGroup",
    "blur",
    "fixedRange",
    "count",
    "lo",
    "hi",
    "alpha",
    "_pad1",
  ];
  assert.deepEqual(dims.fields.map((f) => f.name), names);
  assert.deepEqual(dims.fields.map((f) => f.offset), names.map((_, i) => 4 * i));
  assert.equal(offsets(await loadKernel("lib/fca_dims"), "Dims").alpha, 56);
  assert.equal(dims.size, 64);
  assert.equal(dims.align, 4);
  // The same struct as a kernel sees it (include expanded).
  assert.deepEqual(reflectStruct(await loadKernel("rank_matching"), "Dims"), dims);
  const stats = reflectStruct(await loadKernel("lib/stats_dims"), "StatsDims");
  assert.deepEqual(offsets(await loadKernel("lib/stats_dims"), "StatsDims"), {
    channels: 0,
    height: 4,
    width: 8,
    side: 12,
    bins: 16,
    factor: 20,
    _pad0: 24,
    _pad1: 28,
  });
  assert.equal(stats.size, 32);
  // preprocess's Params: vec4<f32> members align to 16.
  const params = reflectStruct(await loadKernel("preprocess"), "Params");
  assert.deepEqual(offsets(await loadKernel("preprocess"), "Params"), {
    width: 0,
    height: 4,
    _pad0: 8,
    _pad1: 12,
    mean: 16,
    stddev: 32,
  });
  assert.equal(params.size, 48);
  // upsample's Tap records: 16-byte stride as packTaps writes them.
  assert.equal(reflectStruct(await loadKernel("upsample"), "Tap").size, 16);
  assert.equal(reflectStruct(await loadKernel("reference_tile"), "TileOrigin").size, 8);
});

Deno.test("the reflector follows WGSL alignment rules (vec3, arrays, matrices, nesting)", () => {
  const src = `
    struct Inner { a: f32, b: vec2<f32> }  // align 8, size 16
    struct S {
      x: f32,                 // 0
      v: vec3<f32>,           // 16 (align 16), 12 bytes
      y: u32,                 // 28
      arr: array<vec2f, 3>,   // 32 (align 8), stride 8, 24 bytes
      m: mat2x3<f32>,         // 64 (align 16), 2 columns of 16
      inner: Inner,           // 96
      @align(16) z: i32,      // 112
      @size(8) w: f32,        // 116, 8 bytes
      tail: array<atomic<u32>, 2>, // 124
    }
  `;
  const s = reflectStruct(src, "S");
  assert.deepEqual(Object.fromEntries(s.fields.map((f) => [f.name, f.offset])), {
    x: 0,
    v: 16,
    y: 28,
    arr: 32,
    m: 64,
    inner: 96,
    z: 112,
    w: 116,
    tail: 124,
  });
  assert.equal(s.align, 16);
  assert.equal(s.size, 144); // 132 rounded up to 16
  const buf = writeStruct(s, {
    x: 1.5,
    v: [1, 2, 3],
    y: 7,
    arr: [[1, 2], [3, 4], [5, 6]],
    m: [1, 2, 3, 4, 5, 6],
    inner: { a: 9, b: [10, 11] },
    z: -3,
    w: 0.25,
    tail: [1, 2],
  });
  const f = new Float32Array(buf), u = new Uint32Array(buf), i = new Int32Array(buf);
  assert.deepEqual([f[0], f[4], f[5], f[6], u[7]], [1.5, 1, 2, 3, 7]);
  assert.deepEqual([...f.subarray(8, 14)], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...f.subarray(16, 19)], [1, 2, 3]); // column 0 of mat2x3
  assert.deepEqual([...f.subarray(20, 23)], [4, 5, 6]); // column 1 at +16
  assert.deepEqual([f[24], f[26], f[27], i[28], f[29], u[31], u[32]], [9, 10, 11, -3, 0.25, 1, 2]);
});

Deno.test("writeStruct throws on a field added in WGSL but not written, or unknown", async () => {
  const source = await loadKernel("lib/fca_dims");
  const values = {
    channels: 4,
    height: 10,
    width: 9,
    side: 3,
    tilesX: 3,
    tilesY: 3,
    outHeight: 20,
    outWidth: 18,
    windowsPerGroup: 28,
    blur: 1,
    fixedRange: 0,
    count: 360,
    lo: 0,
    hi: 0,
    alpha: 0.5,
  };
  const ok = new DataView(writeStruct(reflectStruct(source, "Dims"), values));
  assert.equal(ok.getFloat32(56, true), 0.5);
  assert.equal(ok.getUint32(44, true), 360);
  assert.equal(ok.getUint32(60, true), 0); // padding omitted: 0
  // A new field in the WGSL text (before the padding) that the host does not write.
  const grown = source.replace("alpha: f32,", "alpha: f32, gamma: f32,");
  assert.notEqual(grown, source);
  const layout = reflectStruct(grown, "Dims");
  assert.equal(layout.fields.find((f) => f.name === "_pad1")!.offset, 64);
  assert.throws(() => writeStruct(layout, values), /Dims: field gamma not written/);
  assert.throws(
    () => writeStruct(reflectStruct(source, "Dims"), { ...values, beta: 1 }),
    /Dims has no field beta/,
  );
  assert.throws(
    () => writeStruct(reflectStruct(source, "Dims"), { ...values, channels: -1 }),
    /Dims.channels must be a u32, got -1/,
  );
  assert.throws(() => reflectStruct(source, "Nope"), /no struct Nope/);
});

Deno.test("every kernel's bindings are reflected and equal the kernel table's names", async () => {
  const files = kernelFiles();
  assert.deepEqual(files, [...KERNEL_NAMES].sort(), "one table entry per kernels/*.wgsl");
  for (const name of files as KernelName[]) {
    const code = await loadKernel(name);
    const decls = reflectBindings(code);
    assert.ok(decls.length > 0, name);
    assert.ok(decls.every((d) => d.group === 0), `${name}: group 0 only`);
    assert.deepEqual(decls.map((d) => d.binding), decls.map((_, i) => i), `${name}: 0..n-1`);
    assert.deepEqual(decls.map((d) => d.name), [...KERNELS[name].bindings], name);
    checkBindingNames(name, decls);
    // The host's records name exactly these bindings: a record of the table's names maps
    // onto binding numbers, and a missing or extra name throws.
    const fake = (i: number) => ({ label: `b${i}` }) as unknown as GPUBuffer;
    const record = Object.fromEntries(KERNELS[name].bindings.map((b, i) => [b, fake(i)]));
    const entries = bindGroupEntries(name, decls, record);
    assert.deepEqual(entries.map((e) => e.binding), decls.map((d) => d.binding));
    assert.throws(
      () => bindGroupEntries(name, decls, { ...record, bogus: fake(9) }),
      /no binding bogus/,
    );
    const [first, ...rest] = KERNELS[name].bindings;
    const partial = Object.fromEntries(rest.map((b) => [b, record[b]]));
    assert.throws(
      () => bindGroupEntries(name, decls, partial),
      new RegExp(`'${first}' has no buffer`),
    );
    // Uniforms are the structs the host writes; the workgroup size is the table's.
    for (const d of decls) {
      assert.ok(d.space === "uniform" || d.space === "storage", `${name}.${d.name}: ${d.space}`);
    }
    assert.deepEqual(reflectWorkgroupSize(code), [...KERNELS[name].workgroupSize], name);
    const spec = KERNELS[name];
    const constants: Readonly<Record<string, number>> = "constants" in spec ? spec.constants : {};
    for (const [k, v] of Object.entries(constants)) {
      assert.equal(reflectConst(code, k), v, `${name}: const ${k}`);
    }
  }
  assert.throws(
    () =>
      checkBindingNames("overlay", [{
        group: 0,
        binding: 0,
        name: "dims",
        space: "uniform",
        type: "Dims",
      }]),
    /declares bindings \[dims\] but src\/gpu\/kernels.ts lists \[dims, rgba, image, rgb\]/,
  );
});

Deno.test("every kernel's header lists its bindings as declared (number, space, name)", async () => {
  for (const name of kernelFiles()) {
    const text = await Deno.readTextFile(new URL(`${name}.wgsl`, KERNEL_DIR));
    const header = text.split("\n").filter((l) => l.startsWith("//"));
    const at = header.findIndex((l) => /^\/\/ Bindings \(group 0\):/.test(l));
    assert.ok(at >= 0, `${name}: header has a Bindings (group 0) section`);
    const lines: string[] = [];
    for (const l of header.slice(at + 1)) {
      const m = /^\/\/\s+(\d+):\s+(.*)$/.exec(l);
      if (!m) break;
      lines.push(l);
    }
    const decls = reflectBindings(await loadKernel(name));
    assert.equal(lines.length, decls.length, `${name}: one header line per binding`);
    decls.forEach((d, i) => {
      const m = /^\/\/\s+(\d+):\s+(uniform|storage, read_write|storage, read)\s+([A-Za-z_]\w*)/
        .exec(lines[i]);
      assert.ok(m, `${name}: cannot read header line '${lines[i]}'`);
      assert.equal(Number(m[1]), d.binding, `${name}: ${lines[i]}`);
      const space = d.space === "storage" ? `storage, ${d.access}` : d.space;
      assert.equal(m[2], space, `${name}: ${lines[i]}`);
      // uniform lines name the struct type, storage lines the variable
      assert.equal(m[3], d.space === "uniform" ? d.type : d.name, `${name}: ${lines[i]}`);
    });
    assert.match(text, /^\/\/ Dispatch: /m, `${name}: header states the dispatch`);
  }
});

Deno.test("the table's dispatches cover the work (bounds-checked 2-D grids past 65535)", () => {
  const extent = {
    channels: 512,
    height: 300,
    width: 400,
    area: 81,
    tiles: 33 * 44,
    windowsPerGroup: 3,
    count: 2400 * 3200,
  };
  const cover = (d: number[], perGroup: number, n: number) =>
    assert.ok(d[0] * d[1] * d[2] * perGroup >= n && d.every((x) => x <= 65535), `${d}`);
  cover(dispatchOf("upsample", extent), 64, extent.count);
  cover(dispatchOf("map_stats", extent), 4096, extent.count);
  cover(dispatchOf("overlay", extent), 64, Math.ceil((3 * extent.count) / 4));
  cover(dispatchOf("rank_matching", extent), 3, 300 * 400);
  assert.deepEqual(dispatchOf("minmax_scale", extent), [512, 1, 1]);
  assert.deepEqual(dispatchOf("median_reference_select", extent), [23, 81, 512]);
  assert.deepEqual(dispatchOf("reference_tile", extent), [2, 512, 1]);
  assert.deepEqual(dispatchOf("preprocess", { height: 33, width: 17 }), [2, 3, 1]);
});
