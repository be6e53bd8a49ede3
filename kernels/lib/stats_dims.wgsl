// lib/stats_dims.wgsl — not a kernel: the `StatsDims` uniform shared by the stats_* kernels
// (`//#include stats_dims`). The host reflects this layout (src/gpu/wgsl_reflect.ts) and writes
// it by field name in src/gpu/fca_gpu.ts.

struct StatsDims {
  channels: u32, height: u32, width: u32, side: u32,
  bins: u32, factor: f32, _pad0: u32, _pad1: u32,
}
