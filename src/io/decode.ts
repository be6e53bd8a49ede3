/**
 * Image decoding: PNG and JPEG (mozjpeg in WebAssembly, exactly PIL's pixels; jpeg-js for CMYK)
 * into planar float RGB, with the format sniffed from
 * magic bytes and the header checked before anything large is allocated. Non-interlaced 8- and
 * 16-bit gray, gray+alpha, RGB and RGBA PNGs (nearly all photos and masks) are inflated by Deno's
 * native zlib (fflate in a browser, `src/base/zlib.ts`) and unfiltered here, about twice as fast
 * as fast-png, which reads the rest.
 * @module
 */

import { decode as decodePngLib } from "../base/npm/fast_png.ts";
import jpeg from "../base/npm/jpeg_js.ts";
import { mozjpeg } from "../base/npm/jsquash_jpeg.ts";
import type { RgbImage } from "./types.ts";
import { concatBytes } from "../base/bytes.ts";
import { InflateLimitError, zlib } from "../base/zlib.ts";

/** Largest accepted width or height in pixels. */
export const MAX_IMAGE_SIDE = 65535;
/** Largest accepted pixel count (2^28). */
export const MAX_IMAGE_PIXELS = 2 ** 28;

/** Image formats this module decodes. */
export type ImageFormat = "png" | "jpeg";

/** Header facts read without decoding pixel data. */
export interface ImageInfo {
  width: number;
  height: number;
  format: ImageFormat;
}

/** A single-channel 8-bit image (e.g. an MVTec ground-truth mask). */
export interface GrayMask {
  width: number;
  height: number;
  /** Row-major `height * width` values in 0..255. */
  data: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Magic numbers of formats we recognise but do not decode, so the error can name them. */
const FOREIGN_MAGIC: { name: string; test: (b: Uint8Array) => boolean }[] = [
  { name: "GIF", test: (b) => ascii(b, 0, 4) === "GIF8" },
  { name: "BMP", test: (b) => ascii(b, 0, 2) === "BM" },
  { name: "WebP", test: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP" },
  { name: "TIFF", test: (b) => ascii(b, 0, 4) === "II*\0" || ascii(b, 0, 4) === "MM\0*" },
  { name: "QOI", test: (b) => ascii(b, 0, 4) === "qoif" },
  { name: "PSD", test: (b) => ascii(b, 0, 4) === "8BPS" },
  {
    name: "ICO",
    test: (b) => b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0,
  },
  {
    name: "JPEG 2000",
    test: (b) => ascii(b, 4, 8) === "jP  \r\n\x87\n" || ascii(b, 0, 4) === "\xffO\xffQ",
  },
  { name: "AVIF/HEIF", test: (b) => ascii(b, 4, 4) === "ftyp" },
  { name: "PNM", test: (b) => b.length >= 2 && b[0] === 0x50 && b[1] >= 0x31 && b[1] <= 0x36 },
  { name: "NumPy .npy", test: (b) => b[0] === 0x93 && ascii(b, 1, 5) === "NUMPY" },
];

function ascii(b: Uint8Array, start: number, len: number): string {
  if (b.length < start + len) return "";
  return String.fromCharCode(...b.subarray(start, start + len));
}

function fail(name: string, cause: string): never {
  throw new Error(`${name}: ${cause}`);
}

/** First line of an error's message, so wrapped library errors stay one line. */
function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === "string" ? e : "decoder error";
  return msg.split("\n")[0] || "unknown error";
}

function sniff(bytes: Uint8Array, name: string): ImageFormat {
  if (bytes.length === 0) fail(name, "empty file (0 bytes)");
  if (PNG_MAGIC.every((m, i) => bytes[i] === m)) return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "jpeg";
  }
  if (bytes.length < 8 && PNG_MAGIC.slice(0, bytes.length).every((m, i) => bytes[i] === m)) {
    fail(name, `truncated PNG (${bytes.length} bytes, signature cut short)`);
  }
  const foreign = FOREIGN_MAGIC.find((f) => f.test(bytes));
  if (foreign) fail(name, `unsupported image format ${foreign.name} (only PNG and JPEG are read)`);
  fail(name, "not a PNG or JPEG image (unrecognised file signature)");
}

function checkDims(name: string, format: string, width: number, height: number): void {
  if (width === 0 || height === 0) {
    fail(name, `${format} header declares an empty ${width}x${height} image`);
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    fail(
      name,
      `${format} header declares ${width}x${height} pixels, beyond the limit ` +
        `(${MAX_IMAGE_SIDE} per side, ${MAX_IMAGE_PIXELS} pixels in all)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// PNG

interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

const PNG_COLOR_DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16], // gray
  2: [8, 16], // RGB
  3: [1, 2, 4, 8], // palette
  4: [8, 16], // gray + alpha
  6: [8, 16], // RGBA
};

function pngHeader(bytes: Uint8Array, name: string): PngHeader {
  if (bytes.length < 33) fail(name, `truncated PNG (${bytes.length} bytes, header incomplete)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || ascii(bytes, 12, 4) !== "IHDR") {
    fail(name, "corrupt PNG (first chunk is not a valid IHDR)");
  }
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const colorType = bytes[25];
  checkDims(name, "PNG", width, height);
  const depths = PNG_COLOR_DEPTHS[colorType];
  if (!depths) fail(name, `corrupt PNG (invalid colour type ${colorType})`);
  if (!depths.includes(depth)) {
    fail(name, `corrupt PNG (bit depth ${depth} is invalid for colour type ${colorType})`);
  }
  return { width, height, depth, colorType, interlaced: bytes[28] !== 0 };
}

/**
 * Walk the chunk list so that truncation is reported as such (fast-png would read past the end
 * or stop early with a less helpful message).
 */
function checkPngChunks(bytes: Uint8Array, name: string, header: PngHeader): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let sawIdat = false;
  let sawPalette = false;
  while (true) {
    if (offset + 12 > bytes.length) {
      fail(name, `truncated PNG (ends after ${bytes.length} bytes without an IEND chunk)`);
    }
    const length = view.getUint32(offset);
    const type = ascii(bytes, offset + 4, 4);
    if (!/^[A-Za-z]{4}$/.test(type)) fail(name, `corrupt PNG (bad chunk type at byte ${offset})`);
    if (offset + 12 + length > bytes.length) {
      fail(name, `truncated PNG (${type} chunk at byte ${offset} is cut short)`);
    }
    if (type === "IDAT") sawIdat = true;
    if (type === "PLTE") sawPalette = true;
    if (type === "IEND") break;
    offset += 12 + length;
  }
  if (!sawIdat) fail(name, "corrupt PNG (no IDAT image data)");
  if (header.colorType === 3 && !sawPalette) fail(name, "corrupt PNG (palette image without PLTE)");
}

/** Decoded PNG samples normalised to one sample per array slot, palette already expanded. */
interface Samples {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  /** Value that means full intensity (255, 65535, or 2^depth-1 for low-depth gray). */
  max: number;
}

/** Expand sub-byte rows (1/2/4-bit, rows padded to whole bytes) to one value per byte. */
function unpackBits(packed: ArrayLike<number>, width: number, height: number, depth: number) {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    const row = y * rowBytes;
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * width + x] = (packed[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Samples per pixel of the colour types the native path reads (gray, RGB, gray+alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/**
 * The fast path: every chunk's CRC checked, the IDAT stream inflated by {@link zlib}, the rows
 * unfiltered (PNG filter types 0–4). For non-interlaced 8- and 16-bit gray/RGB(A) images.
 */
function decodePngNative(bytes: Uint8Array, name: string, header: PngHeader): Samples {
  const { width, height, depth, colorType } = header;
  const channels = PNG_CHANNELS[colorType];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  for (let offset = 8;;) {
    const length = view.getUint32(offset);
    const body = bytes.subarray(offset + 4, offset + 8 + length);
    const type = ascii(bytes, offset + 4, 4);
    if (zlib.crc32(body) !== view.getUint32(offset + 8 + length)) {
      fail(name, `corrupt PNG data (CRC mismatch in the ${type} chunk at byte ${offset})`);
    }
    if (type === "IDAT") idat.push(body.subarray(4));
    if (type === "IEND") break;
    offset += 12 + length;
  }
  const bpp = (channels * depth) / 8, stride = width * bpp;
  const need = (stride + 1) * height;
  let raw: Uint8Array;
  try {
    // The cap keeps a crafted stream (a "zip bomb") from inflating beyond what the header allows.
    const data = idat.length === 1 ? idat[0] : concatBytes(idat);
    raw = zlib.inflate(data, need + 65536);
  } catch (e) {
    if (e instanceof InflateLimitError) {
      fail(name, `corrupt PNG data (image data inflates beyond the ${need} bytes it should hold)`);
    }
    fail(name, `corrupt PNG data (${reason(e)})`);
  }
  if (raw.length < need) {
    fail(name, "corrupt PNG data (decoded pixel data is shorter than the header declares)");
  }
  const out = unfilterRows(raw, width, height, bpp, name);
  const data = depth === 8 ? out : bigEndian16(out);
  return { width, height, channels, data, max: depth === 16 ? 65535 : 255 };
}

/**
 * Undo the per-row PNG filters (None, Sub, Up, Average, Paeth; PNG spec §9) of `height` rows of
 * `width * bpp` bytes, each preceded by its filter type byte.
 */
function unfilterRows(
  raw: Uint8Array,
  width: number,
  height: number,
  bpp: number,
  name: string,
): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const src = y * (stride + 1) + 1, dst = y * stride, up = dst - stride;
    const filter = raw[src - 1];
    if (filter === 0 || (filter === 2 && y === 0)) {
      out.set(raw.subarray(src, src + stride), dst);
    } else if (filter === 1) {
      for (let i = 0; i < stride; i++) {
        out[dst + i] = raw[src + i] + (i >= bpp ? out[dst + i - bpp] : 0);
      }
    } else if (filter === 2) {
      for (let i = 0; i < stride; i++) out[dst + i] = raw[src + i] + out[up + i];
    } else if (filter === 3) {
      for (let i = 0; i < stride; i++) {
        const left = i >= bpp ? out[dst + i - bpp] : 0, above = y > 0 ? out[up + i] : 0;
        out[dst + i] = raw[src + i] + ((left + above) >> 1);
      }
    } else if (filter === 4) {
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? out[dst + i - bpp] : 0;
        const b = y > 0 ? out[up + i] : 0;
        const c = i >= bpp && y > 0 ? out[up + i - bpp] : 0;
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        out[dst + i] = raw[src + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
    } else {
      fail(name, `corrupt PNG data (unknown filter type ${filter} in row ${y})`);
    }
  }
  return out;
}

/** 16-bit samples stored big-endian, as PNG does. */
function bigEndian16(bytes: Uint8Array): Uint16Array {
  const out = new Uint16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (bytes[2 * i] << 8) | bytes[2 * i + 1];
  return out;
}

function decodePngSamples(bytes: Uint8Array, name: string): Samples {
  const header = pngHeader(bytes, name);
  checkPngChunks(bytes, name, header);
  const { width, height, depth, colorType } = header;
  if (!header.interlaced && depth >= 8 && colorType in PNG_CHANNELS) {
    return decodePngNative(bytes, name, header);
  }
  let png;
  try {
    png = decodePngLib(bytes, { checkCrc: true });
  } catch (e) {
    fail(name, `corrupt PNG data (${reason(e)})`);
  }
  const channels = png.channels;
  const rowSamples = depth < 8 ? Math.ceil((width * depth) / 8) : width * channels;
  if (png.width !== width || png.height !== height || png.data.length < rowSamples * height) {
    fail(name, "corrupt PNG data (decoded pixel data is shorter than the header declares)");
  }
  if (colorType === 3) {
    const palette = png.palette ?? [];
    const index = depth < 8 ? unpackBits(png.data, width, height, depth) : (png.data as Uint8Array);
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      const colour = palette[index[i]];
      if (!colour) fail(name, `corrupt PNG data (palette index ${index[i]} out of range)`);
      rgb[3 * i] = colour[0];
      rgb[3 * i + 1] = colour[1];
      rgb[3 * i + 2] = colour[2];
    }
    return { width, height, channels: 3, data: rgb, max: 255 };
  }
  if (depth < 8) {
    return {
      width,
      height,
      channels: 1,
      data: unpackBits(png.data, width, height, depth),
      max: (1 << depth) - 1,
    };
  }
  const data = png.data instanceof Uint8ClampedArray
    ? new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length)
    : png.data;
  return { width, height, channels, data, max: depth === 16 ? 65535 : 255 };
}

// ---------------------------------------------------------------------------------------------
// JPEG

/** Start-of-frame markers (SOF0..SOF15 without DHT C4, JPG C8 and DAC CC). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
    marker !== 0xcc;
}

/** Markers that stand alone (no length field). */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7);
}

interface JpegScan {
  width: number;
  height: number;
  components: number;
  sof: number;
}

/**
 * Walk JPEG segments. With `full`, also skip every entropy-coded scan and require an EOI marker,
 * since jpeg-js happily returns a partial image for a cut-off file; otherwise stop at the frame
 * header.
 */
function walkJpeg(bytes: Uint8Array, name: string, full: boolean): JpegScan {
  const n = bytes.length;
  let frame: JpegScan | undefined;
  let scans = 0;
  let offset = 2;
  const truncated = (what: string) => fail(name, `truncated JPEG (${what})`);
  while (true) {
    if (offset >= n) truncated("ends without an end-of-image marker");
    if (bytes[offset] !== 0xff) {
      fail(name, `corrupt JPEG (expected a marker at byte ${offset})`);
    }
    while (offset < n && bytes[offset] === 0xff) offset++; // fill bytes
    if (offset >= n) truncated("ends without an end-of-image marker");
    const marker = bytes[offset++];
    if (marker === 0xd9) {
      if (!frame) fail(name, "corrupt JPEG (no frame header before end of image)");
      if (scans === 0) fail(name, "corrupt JPEG (no image data before end of image)");
      return frame;
    }
    if (isStandalone(marker)) continue;
    if (offset + 2 > n) truncated(`segment header at byte ${offset} cut short`);
    const length = (bytes[offset] << 8) | bytes[offset + 1];
    if (length < 2) fail(name, `corrupt JPEG (bad segment length at byte ${offset})`);
    if (offset + length > n) truncated(`segment at byte ${offset - 2} cut short`);
    if (isSof(marker)) {
      if (frame) fail(name, "corrupt JPEG (more than one frame header)");
      if (length < 8) fail(name, "corrupt JPEG (frame header too short)");
      const height = (bytes[offset + 3] << 8) | bytes[offset + 4];
      const width = (bytes[offset + 5] << 8) | bytes[offset + 6];
      const components = bytes[offset + 7];
      if (height === 0) fail(name, "unsupported JPEG (height defined by a DNL marker)");
      checkDims(name, "JPEG", width, height);
      frame = { width, height, components, sof: marker };
      if (!full) return frame;
    }
    offset += length;
    if (marker === 0xda) {
      if (!frame) fail(name, "corrupt JPEG (scan before frame header)");
      scans++;
      // Entropy-coded data runs until a marker other than a stuffed 0xFF00 or a restart RSTn.
      while (true) {
        while (offset < n && bytes[offset] !== 0xff) offset++;
        if (offset + 1 >= n) truncated("image data cut short, no end-of-image marker");
        const next = bytes[offset + 1];
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
          offset += next === 0xff ? 1 : 2;
          continue;
        }
        break;
      }
    }
  }
}

function decodeJpegRgb(bytes: Uint8Array, name: string): Samples {
  const frame = walkJpeg(bytes, name, true);
  if (frame.sof !== 0xc0 && frame.sof !== 0xc1 && frame.sof !== 0xc2) {
    fail(
      name,
      `unsupported JPEG (SOF${frame.sof - 0xc0} coding; baseline and progressive are read)`,
    );
  }
  if (frame.components !== 4) {
    // mozjpeg (@jsquash/jpeg): the same integer IDCT and fancy upsampling as PIL's libjpeg.
    let img;
    try {
      img = mozjpeg.decode(bytes, false);
    } catch (e) {
      fail(name, `corrupt JPEG data (${reason(e)})`);
    }
    if (!img) fail(name, "corrupt JPEG data (the decoder rejected it)");
    if (img.width !== frame.width || img.height !== frame.height) {
      fail(name, "corrupt JPEG data (decoded size differs from the frame header)");
    }
    return { width: img.width, height: img.height, channels: 4, data: img.data, max: 255 };
  }
  // CMYK / YCCK (four components), which mozjpeg's RGBA output cannot convert: jpeg-js.
  let out;
  try {
    out = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: Math.ceil(MAX_IMAGE_PIXELS / 1e6),
      maxMemoryUsageInMB: 16384,
    });
  } catch (e) {
    fail(name, `corrupt JPEG data (${reason(e)})`);
  }
  if (out.width !== frame.width || out.height !== frame.height) {
    fail(name, "corrupt JPEG data (decoded size differs from the frame header)");
  }
  return { width: out.width, height: out.height, channels: 3, data: out.data, max: 255 };
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Read width, height and format from the header alone (no pixel data is decoded).
 * @throws Error naming `name` for unrecognised, truncated or absurdly large images.
 */
export function probeImageSize(bytes: Uint8Array, name = "image"): ImageInfo {
  const format = sniff(bytes, name);
  if (format === "png") {
    const { width, height } = pngHeader(bytes, name);
    return { width, height, format };
  }
  const { width, height } = walkJpeg(bytes, name, false);
  return { width, height, format };
}

function decodeSamples(bytes: Uint8Array, name: string): Samples {
  return sniff(bytes, name) === "png" ? decodePngSamples(bytes, name) : decodeJpegRgb(bytes, name);
}

/**
 * Decode PNG (1..16-bit gray, gray+alpha, RGB, RGBA, palette) or JPEG (baseline or progressive,
 * colour or gray) bytes to planar RGB in [0, 1]. Alpha is ignored, gray is replicated to three
 * channels (as PIL's `convert('RGB')`), values are divided by 255 (65535 for 16-bit PNG).
 * @param name used in error messages (typically the file path)
 * @throws Error with a one-line message naming `name` and the cause.
 */
export function decodeImage(bytes: Uint8Array, name = "image"): RgbImage {
  const s = decodeSamples(bytes, name);
  const plane = s.width * s.height;
  const out = new Float32Array(3 * plane);
  // Lookup of v / max rounded once to float32, as numpy's uint8 -> float32 / 255.
  const lut = new Float32Array(s.max + 1);
  for (let v = 0; v <= s.max; v++) lut[v] = v / s.max;
  const { channels: c, data } = s;
  const colour = c >= 3;
  for (let i = 0; i < plane; i++) {
    const base = i * c;
    const r = lut[data[base]];
    out[i] = r;
    out[plane + i] = colour ? lut[data[base + 1]] : r;
    out[2 * plane + i] = colour ? lut[data[base + 2]] : r;
  }
  return { width: s.width, height: s.height, data: out };
}

/**
 * Decode a mask image to 8-bit single channel: the first channel of any PNG (palette entries use
 * their red value; 16-bit values are scaled by 255/65535 and rounded; 1/2/4-bit gray is scaled to
 * 0..255). JPEG masks are accepted too (first channel).
 * @throws Error naming `name` and the cause.
 */
export function decodeGrayMask(bytes: Uint8Array, name = "mask"): GrayMask {
  const s = decodeSamples(bytes, name);
  const plane = s.width * s.height;
  const data = new Uint8Array(plane);
  const scale = 255 / s.max;
  for (let i = 0; i < plane; i++) data[i] = Math.round(s.data[i * s.channels] * scale);
  return { width: s.width, height: s.height, data };
}

/**
 * Read and decode an image file (see {@link decodeImage}).
 * @throws Error `"<path>: no such file"` when it does not exist, or the decoding error.
 */
export async function readImage(path: string): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) fail(path, "no such file");
    if (e instanceof Deno.errors.IsADirectory) fail(path, "is a directory, not an image file");
    if (e instanceof Deno.errors.PermissionDenied) fail(path, "permission denied");
    fail(path, `cannot read (${reason(e)})`);
  }
  return decodeImage(bytes, path);
}
