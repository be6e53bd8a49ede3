/**
 * NumPy `.npy` (format 1.0/2.0) reading and writing for float32 arrays, so maps and golden vectors
 * move between this tool and numpy unchanged.
 * @module
 */

/** A dense float32 array with its shape (C order). */
export interface NdArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parse `.npy` bytes. Accepts little-endian float32 (`<f4`) and float64 (`<f8`, converted to
 * float32), C order only.
 * @throws Error with a one-line reason when the bytes are not a supported npy array.
 */
export function decodeNpy(bytes: Uint8Array): NdArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error("not a .npy file (bad magic)");
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder("latin1").decode(
    bytes.subarray(headerStart, headerStart + headerLen),
  );
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error("malformed .npy header");
  if (fortran === "True") throw new Error("Fortran-order .npy arrays are not supported");
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  const data = new Float32Array(count);
  if (descr === "<f4") {
    if (bytes.length < offset + 4 * count) throw new Error("truncated .npy data");
    const src = new Uint8Array(data.buffer);
    src.set(bytes.subarray(offset, offset + 4 * count));
  } else if (descr === "<f8") {
    if (bytes.length < offset + 8 * count) throw new Error("truncated .npy data");
    for (let i = 0; i < count; i++) data[i] = view.getFloat64(offset + 8 * i, true);
  } else {
    throw new Error(`unsupported .npy dtype ${descr} (expected <f4 or <f8)`);
  }
  return { shape, data };
}

/** Encode a float32 array as `.npy` (format 1.0, `<f4`, C order). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array<ArrayBuffer> {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`shape ${shape} does not match ${data.length} values`);
  const shapeText = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shapeText}), }`;
  // Pad so that the data starts on a 64-byte boundary, newline-terminated, as numpy does.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += " ".repeat(pad % 64) + "\n";
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Read and decode an `.npy` file. */
export async function readNpy(path: string | URL): Promise<NdArray> {
  return decodeNpy(await Deno.readFile(path));
}
