// stats_moments_mean.wgsl — step 1 of the moments statistic (reference `sc_moments`, golden
// convention 11; CPU specification: momentsMap in src/fca/stats/moments.ts): the spatial mean of
// each channel's local moments.
//
// The local moments at (y, x) are the powers 1..4 of the features blurred by the T-tap Gaussian
// (2-D kernel = outer product, reflect padding by T/2, edge not repeated):
//   m = Σ_a taps[a] · Σ_t taps[t] · (v, v², v³, v⁴),
//   v = f(reflect(y+a-T/2), reflect(x+t-T/2))
// (row sums first, as the separable CPU blur). means[c] = mean over all pixels of m.
//
// Bindings (group 0):
//   0: uniform             StatsDims { channels, height, width, side (taps), ... }
//   1: storage, read       features: array<f32>        [channels, height, width]
//   2: storage, read       taps:     array<f32>        [side] normalised Gaussian
//   3: storage, read_write means:    array<vec4<f32>>  [channels]
// Dispatch: (channels, 1, 1); one workgroup of 256 invocations per channel.

//#include stats_dims

@group(0) @binding(0) var<uniform> dims: StatsDims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> taps: array<f32>;
@group(0) @binding(3) var<storage, read_write> means: array<vec4<f32>>;

const WG: u32 = 256u;
var<workgroup> red: array<vec4<f32>, WG>;

//#include reflect_index

//#include local_moments

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wg.x;
  let W = dims.width;
  let n = dims.height * W;
  var sum = vec4<f32>(0.0);
  for (var i = lid; i < n; i += WG) {
    sum += localMoments(c * n, i / W, i % W);
  }
  red[lid] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      red[lid] += red[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    means[c] = red[0] / f32(n);
  }
}
