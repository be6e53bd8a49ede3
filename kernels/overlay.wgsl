// overlay.wgsl — the heatmap blended over the input image, as packed RGB8 bytes ready for a PNG
// (CPU specification: overlay() in src/io/colormap.ts).
//
// Byte b of the output stream is channel c = b % 3 of pixel p = b / 3:
//   a   = alpha * heatA / 255
//   out = round((1 - a) * clamp(image[c, p], 0, 1) * 255 + a * heatC)   (f32; round half up)
// Four bytes per invocation, little-endian in one u32 word, so no two invocations share a word;
// bytes past the last pixel are 0. The f32 blend can differ from the CPU's f64 by one step where
// the value lies within float error of a half.
//
// Bindings (group 0):
//   0: uniform             Dims { ..., count, lo, hi, alpha, ... }
//   1: storage, read       rgba:  array<u32>  [count] heatmap (bytes R, G, B, A)
//   2: storage, read       image: array<f32>  [3, count] planar RGB in [0, 1]
//   3: storage, read_write rgb:   array<u32>  [ceil(3 * count / 4)]
// Dispatch: (gx, gy, 1) workgroups of 64 with gx*gy*64 >= ceil(3 * count / 4); the word index is
// (wg.y * gx + wg.x) * 64 + local index.

//#include fca_dims

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> rgba: array<u32>;
@group(0) @binding(2) var<storage, read> image: array<f32>;
@group(0) @binding(3) var<storage, read_write> rgb: array<u32>;

fn blendByte(b: u32) -> u32 {
  let count = dims.count;
  if (b >= 3u * count) {
    return 0u;
  }
  let p = b / 3u;
  let c = b % 3u;
  let heat = rgba[p];
  let a = dims.alpha * f32(heat >> 24u) / 255.0;
  let base = clamp(image[c * count + p], 0.0, 1.0) * 255.0;
  let v = (1.0 - a) * base + a * f32((heat >> (8u * c)) & 255u);
  return min(u32(floor(v + 0.5)), 255u);
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let q = (wg.y * nwg.x + wg.x) * 64u + lid;
  if (q >= (3u * dims.count + 3u) / 4u) {
    return;
  }
  let b = 4u * q;
  rgb[q] = blendByte(b) | (blendByte(b + 1u) << 8u) | (blendByte(b + 2u) << 16u) |
    (blendByte(b + 3u) << 24u);
}
