// lib/qfca_dims.wgsl — not a kernel: the `QfcaDims` uniform of the qfca_* kernels
// (`//#include qfca_dims`; written by src/gpu/qfca_gpu.ts from the reflected layout).

struct QfcaDims {
  channels: u32, height: u32, width: u32, side: u32,
  bins: u32, tilesX: u32, tiles: u32, c0: u32,
  chunk: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

/// Bin of a scaled value: clamp(floor(v·B), 0, B−1) (src/fca/qfca.ts quantizeValue).
fn qfcaBin(v: f32, bins: u32) -> u32 {
  let b = floor(v * f32(bins));
  return u32(clamp(b, 0.0, f32(bins - 1u)));
}
