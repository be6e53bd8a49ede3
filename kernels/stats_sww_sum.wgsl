// stats_sww_sum.wgsl — last step of the sample-weighted Wasserstein statistic (paper Eq. 4,
// reference `ScSWW`, convention 11 in docs/conventions.md; CPU specification: swwMap in src/fca/stats/sww.ts).
//
// rank_matching.wgsl, run with the σ weights and the blur off, leaves for every window w
// contrib[w, k] = weight[k] · mean_c |x_k − ref[c, rank(x_k)]| (stable ranks); SWW is the sum
// of that row, since Σ_c Σ_rank w(pos)·|sorted − ref| / C = Σ_k weight[k] · mean_c |x_k − ref|.
// The score belongs to the window centre (no fold).
//
// Bindings (group 0):
//   0: uniform             StatsDims { channels, height, width, side, ... }
//   1: storage, read       contrib: array<f32>  [height*width windows, T*T]
//   2: storage, read_write out:     array<f32>  [height, width]
// Dispatch: (gx, gy, 1) workgroups of 64 with gx*gy*64 >= height*width; the pixel index is
// (wg.y * gx + wg.x) * 64 + local index.

//#include stats_dims

@group(0) @binding(0) var<uniform> dims: StatsDims;
@group(0) @binding(1) var<storage, read> contrib: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let n = dims.height * dims.width;
  let p = (wg.y * nwg.x + wg.x) * 64u + lid;
  if (p >= n) {
    return;
  }
  let area = dims.side * dims.side;
  var s = 0.0;
  for (var k = 0u; k < area; k++) {
    s += contrib[p * area + k];
  }
  out[p] = s;
}
