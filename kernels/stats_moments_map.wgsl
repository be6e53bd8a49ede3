// stats_moments_map.wgsl — step 2 of the moments statistic (CPU specification: momentsMap in
// src/fca/stats/moments.ts): per pixel, the mean squared difference over channels × powers 1..4
// between the local moments (lib/local_moments.wgsl, shared with stats_moments_mean.wgsl) and the
// channel's spatial mean moments:
//   out[y, x] = Σ_c |means[c] - m_c(y, x)|² / (4 · channels)
//
// Bindings (group 0):
//   0: uniform             StatsDims { channels, height, width, side (taps), ... }
//   1: storage, read       features: array<f32>        [channels, height, width]
//   2: storage, read       taps:     array<f32>        [side]
//   3: storage, read       means:    array<vec4<f32>>  [channels] (stats_moments_mean.wgsl)
//   4: storage, read_write out:      array<f32>        [height, width]
// Dispatch: (gx, gy, 1) workgroups of 64 with gx*gy*64 >= height*width; the pixel index is
// (wg.y * gx + wg.x) * 64 + local index.

//#include stats_dims

@group(0) @binding(0) var<uniform> dims: StatsDims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> taps: array<f32>;
@group(0) @binding(3) var<storage, read> means: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

//#include reflect_index

//#include local_moments

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let W = dims.width;
  let n = dims.height * W;
  let p = (wg.y * nwg.x + wg.x) * 64u + lid;
  if (p >= n) {
    return;
  }
  var acc = 0.0;
  for (var c = 0u; c < dims.channels; c++) {
    let d = means[c] - localMoments(c * n, p / W, p % W);
    acc += dot(d, d);
  }
  out[p] = acc / f32(4u * dims.channels);
}
