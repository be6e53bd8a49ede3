// overlap_add.wgsl — overlap-add of the weighted window maps as a gather (convention 7 in docs/conventions.md;
// CPU specification: fcaMapReference in src/fca/rank_matching.ts).
//
// Output pixel (y, x) sums contrib[window (i, j), (dy, dx)] over the windows covering it,
// i = y - dy + T/2, j = x - dx + T/2, for (dy, dx) row-major; windows centred outside the image
// do not exist, so border pixels are attenuated; no normalisation. No atomics.
//
// Bindings (group 0):
//   0: uniform             Dims { channels, height, width, side, ... }
//   1: storage, read       contrib: array<f32>  [height*width windows, T*T]
//   2: storage, read_write map:     array<f32>  [height, width]
// Dispatch: (gx, gy, 1) workgroups of 64 with gx*gy*64 >= height*width; the pixel index is
// (wg.y * gx + wg.x) * 64 + local index.

//#include fca_dims

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> contrib: array<f32>;
@group(0) @binding(2) var<storage, read_write> map: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let H = i32(dims.height);
  let W = i32(dims.width);
  let p = (wg.y * nwg.x + wg.x) * 64u + lid;
  if (p >= dims.height * dims.width) {
    return;
  }
  let T = i32(dims.side);
  let area = u32(T * T);
  let half = T / 2;
  let y = i32(p / dims.width);
  let x = i32(p % dims.width);
  var acc = 0.0;
  for (var dy = 0; dy < T; dy++) {
    let i = y - dy + half;
    if (i < 0 || i >= H) {
      continue;
    }
    for (var dx = 0; dx < T; dx++) {
      let j = x - dx + half;
      if (j < 0 || j >= W) {
        continue;
      }
      acc += contrib[u32(i * W + j) * area + u32(dy * T + dx)];
    }
  }
  map[p] = acc;
}
