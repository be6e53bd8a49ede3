/**
 * zlib streams and CRC-32 for the PNG codec, on any runtime: Node's native zlib where the runtime
 * has it (Deno, Node: about twice as fast as JavaScript), else fflate and a table CRC (the
 * browser app). Both produce valid zlib streams and the same CRCs and inflated bytes (the
 * compressed bytes differ between the two, the images they hold do not).
 *
 * The native module is taken with `process.getBuiltinModule`, not a static `import "node:zlib"`,
 * so that this module, and the image decoder and encoder above it, also load in a browser.
 * @module
 */
import { Unzlib, zlibSync } from "./npm/fflate.ts";

type NodeZlib = typeof import("node:zlib");

/** Thrown by {@link inflate} when the stream holds more than the allowed output. */
export class InflateLimitError extends Error {}

/** A zlib implementation: the native one or the portable one (both exported for tests). */
export interface Zlib {
  /** Which implementation: "node:zlib" or "fflate". */
  readonly name: string;
  /**
   * Inflate a zlib stream. Throws {@link InflateLimitError} as soon as the output would pass
   * `maxOutputLength` bytes (a crafted stream cannot allocate more), another Error when corrupt.
   */
  inflate(data: Uint8Array, maxOutputLength: number): Uint8Array;
  /** Compress `data` into a zlib stream at `level` (0–9). */
  deflate(data: Uint8Array, level: number): Uint8Array;
  /** CRC-32 (ISO-HDLC, as PNG and zlib's `crc32`) of `data`, unsigned. */
  crc32(data: Uint8Array): number;
}

/** Node's zlib of this runtime, or undefined where there is none (a browser). */
function nodeZlib(): NodeZlib | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process;
  return process?.getBuiltinModule?.("node:zlib") as NodeZlib | undefined;
}

/** The native implementation over `z`. */
function nativeZlib(z: NodeZlib): Zlib {
  return {
    name: "node:zlib",
    inflate(data, maxOutputLength) {
      try {
        return plain(z.inflateSync(data, { maxOutputLength: Math.max(1, maxOutputLength) }));
      } catch (e) {
        if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
          throw new InflateLimitError(`inflated data exceeds ${maxOutputLength} bytes`);
        }
        throw e;
      }
    },
    deflate: (data, level) => plain(z.deflateSync(data, { level })),
    crc32: (data) => z.crc32(data) >>> 0,
  };
}

/**
 * A Node Buffer as a plain Uint8Array over the same memory: the two implementations then return
 * the same type (a Buffer's `slice` is a view, a Uint8Array's a copy).
 */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Input bytes handed to fflate per step: bounds the output of one step when checking the cap. */
const PORTABLE_STEP = 1 << 16;

/** The pure-JavaScript implementation (fflate, table CRC). */
export const portableZlib: Zlib = {
  name: "fflate",
  inflate(data, maxOutputLength) {
    const parts: Uint8Array[] = [];
    let total = 0, ended = false;
    const stream = new Unzlib((chunk, final) => {
      total += chunk.length;
      if (total > maxOutputLength) {
        throw new InflateLimitError(`inflated data exceeds ${maxOutputLength} bytes`);
      }
      parts.push(chunk);
      ended ||= final;
    });
    for (let i = 0; i < data.length; i += PORTABLE_STEP) {
      stream.push(data.subarray(i, i + PORTABLE_STEP), i + PORTABLE_STEP >= data.length);
    }
    if (data.length === 0 || !ended) throw new Error("unexpected end of file");
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  },
  deflate: (data, level) => zlibSync(data, { level: level as 0 }),
  crc32(data) {
    let c = ~0;
    for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
    return ~c >>> 0;
  },
};

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

const native = nodeZlib();

/** The implementation of this runtime: native where there is one, else {@link portableZlib}. */
export const zlib: Zlib = native ? nativeZlib(native) : portableZlib;
