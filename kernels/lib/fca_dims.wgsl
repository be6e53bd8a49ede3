// lib/fca_dims.wgsl — not a kernel: the `Dims` uniform shared by the FCA kernels
// (`//#include fca_dims`). The host reflects this layout (src/gpu/wgsl_reflect.ts) and writes
// it by field name in src/gpu/fca_gpu.ts; a field added here and not written there throws.

struct Dims {
  channels: u32, height: u32, width: u32, side: u32,
  tilesX: u32, tilesY: u32, outHeight: u32, outWidth: u32,
  windowsPerGroup: u32, blur: u32, fixedRange: u32, count: u32,
  lo: f32, hi: f32, alpha: f32, _pad1: u32,
}
