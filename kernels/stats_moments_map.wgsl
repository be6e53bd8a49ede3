// stats_moments_map.wgsl — step 2 of the moments statistic (CPU specification: momentsMap in
// src/fca/stats/moments.ts): per pixel, the mean squared difference over channels × powers 1..4
// between the local moments (same function as stats_moments_mean.wgsl, repeated here) and the
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

struct StatsDims {
  channels: u32, height: u32, width: u32, side: u32,
  bins: u32, factor: f32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: StatsDims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> taps: array<f32>;
@group(0) @binding(3) var<storage, read> means: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

/// Reflect i into [0, n) without repeating the edge; unsigned `%` only (wgpu's GL backend
/// computes a negative i32 remainder wrongly, gfx-rs/wgpu#9687).
fn reflectIndex(i: i32, n: i32) -> i32 {
  if (n == 1) {
    return 0;
  }
  let period = u32(2 * (n - 1));
  let m = i32(u32(abs(i)) % period);
  return select(i32(period) - m, m, m < n);
}

/// Gaussian-weighted moments 1..4 of the window centred on (y, x) of the plane at base.
fn localMoments(base: u32, y: u32, x: u32) -> vec4<f32> {
  let T = dims.side;
  let r = i32(T / 2u);
  let H = dims.height;
  let W = dims.width;
  var m = vec4<f32>(0.0);
  for (var a = 0u; a < T; a++) {
    let ry = u32(reflectIndex(i32(y + a) - r, i32(H)));
    var row = vec4<f32>(0.0);
    for (var t = 0u; t < T; t++) {
      let rx = u32(reflectIndex(i32(x + t) - r, i32(W)));
      let v = features[base + ry * W + rx];
      let v2 = v * v;
      row += taps[t] * vec4<f32>(v, v2, v2 * v, v2 * v2);
    }
    m += taps[a] * row;
  }
  return m;
}

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
