/**
 * @jsquash/jpeg's mozjpeg decoder (WebAssembly, Apache-2.0), pinned here (the one place its
 * version is written) and instantiated once when this module loads, so that decoding is
 * synchronous afterwards. It decodes exactly as libjpeg-turbo does for PIL (same IDCT and fancy
 * upsampling), but not CMYK/YCCK. A worker must import it (or `src/io/decode.ts`) dynamically,
 * after setting its message handler: messages that arrive during a top-level await are lost.
 * @module
 */
// Full specifiers on purpose: mod.ts must import from any folder, without this deno.json.
// deno-lint-ignore no-import-prefix
import { initEmscriptenModule } from "npm:@jsquash/jpeg@1.6.0/utils.js";
// deno-lint-ignore no-import-prefix
import factory from "npm:@jsquash/jpeg@1.6.0/codec/dec/mozjpeg_dec.js";

/** Decoded pixels: RGBA, 8 bits per channel, row-major. */
export interface MozJpegImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** The instantiated decoder. */
export interface MozJpegDecoder {
  /** Decode JPEG bytes to RGBA; null (or a thrown value) on corrupt or unsupported data. */
  decode(data: Uint8Array, preserveOrientation: boolean): MozJpegImage | null;
}

/** The decoder, ready (its messages on stdout/stderr are silenced). */
export const mozjpeg: MozJpegDecoder = await initEmscriptenModule(factory, undefined, {
  print() {},
  printErr() {},
}) as unknown as MozJpegDecoder;
