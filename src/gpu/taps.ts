/**
 * Bilinear taps for the device: {@link bilinearTaps} of the rows then of the columns, packed as
 * the kernels' `Tap { i0, i1, w1, _pad }` records (upsample.wgsl, fuse_scales.wgsl), so the GPU
 * reads the very taps the CPU specification uses.
 * @module
 */
import { bilinearTaps } from "../fca/upsample.ts";

/** Row taps then column taps for resizing h×w to outH×outW, 16 bytes per tap. */
export function packTaps(h: number, outH: number, w: number, outW: number): ArrayBuffer {
  const buf = new ArrayBuffer((outH + outW) * 16);
  const u = new Uint32Array(buf), f = new Float32Array(buf);
  let o = 0;
  for (const t of [bilinearTaps(h, outH), bilinearTaps(w, outW)]) {
    for (let i = 0; i < t.i0.length; i++, o++) {
      u[4 * o] = t.i0[i];
      u[4 * o + 1] = t.i1[i];
      f[4 * o + 2] = t.w1[i];
    }
  }
  return buf;
}
