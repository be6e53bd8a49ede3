// lib/bilinear.wgsl — not a kernel: bilinear sampling with host-made taps, shared by upsample.wgsl
// and fuse_scales.wgsl (`//#include bilinear`). Uses the including kernel's `src: array<f32>`
// [height, width], `taps: array<Tap>` (outHeight row taps, then outWidth column taps, from
// bilinearTaps() in src/fca/upsample.ts) and `dims` with width, outHeight and outWidth. The blend
// is the CPU formula top = a + (b - a)·wx, bottom = c + (d - c)·wx, value = top + (bottom - top)·wy.

struct Tap {
  i0: u32,
  i1: u32,
  w1: f32,
  _pad: u32,
}

/// The resized map's value at output pixel p (row-major in outHeight × outWidth).
fn bilinearAt(p: u32) -> f32 {
  let ty = taps[p / dims.outWidth];
  let tx = taps[dims.outHeight + p % dims.outWidth];
  let r0 = ty.i0 * dims.width;
  let r1 = ty.i1 * dims.width;
  let top = src[r0 + tx.i0] + (src[r0 + tx.i1] - src[r0 + tx.i0]) * tx.w1;
  let bottom = src[r1 + tx.i0] + (src[r1 + tx.i1] - src[r1 + tx.i0]) * tx.w1;
  return top + (bottom - top) * ty.w1;
}
