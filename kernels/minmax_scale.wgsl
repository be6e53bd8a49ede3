// minmax_scale.wgsl — per-channel min-max scaling of the raw backbone features, with a check for
// NaN/Inf (convention 1 in docs/conventions.md; CPU specification: src/fca/scale.ts).
//
//   scaled[c, i] = (x[c, i] - min_c) / ((max_c - min_c) + 1e-8)   in f32, over all H*W positions.
//
// Non-finite values are found by their exponent bits (WGSL lets compilers assume floats are
// finite, so comparisons cannot be trusted for this); the first bad channel c is recorded as
// stats[2] = max(stats[2], 0xffffffff - c) so the host can name it after readback (0 = all good).
//
// Bindings (group 0):
//   0: uniform             Dims { channels, height, width, ... } (layout shared by all FCA kernels)
//   1: storage, read       features: array<f32>  [channels, height, width]
//   2: storage, read_write scaled:   array<f32>  [channels, height, width]
//   3: storage, read_write stats:    array<atomic<u32>, 4>  (only [2] is touched here)
// Dispatch: (channels, 1, 1); one workgroup of 256 invocations per channel.

//#include fca_dims

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read_write> scaled: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<atomic<u32>, 4>;

const WG: u32 = 256u;
var<workgroup> loS: array<f32, WG>;
var<workgroup> hiS: array<f32, WG>;
var<workgroup> badS: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wg.x;
  let n = dims.height * dims.width;
  let base = c * n;
  var lo = 3.4e38;
  var hi = -3.4e38;
  var bad = 0u;
  for (var i = lid; i < n; i += WG) {
    let v = features[base + i];
    if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) {
      bad = 1u;
    }
    lo = min(lo, v);
    hi = max(hi, v);
  }
  loS[lid] = lo;
  hiS[lid] = hi;
  badS[lid] = bad;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      loS[lid] = min(loS[lid], loS[lid + s]);
      hiS[lid] = max(hiS[lid], hiS[lid + s]);
      badS[lid] = badS[lid] | badS[lid + s];
    }
    workgroupBarrier();
  }
  let mn = loS[0];
  let denom = (hiS[0] - mn) + 1e-8;
  if (lid == 0u && badS[0] != 0u) {
    atomicMax(&stats[2], 0xffffffffu - c);
  }
  for (var i = lid; i < n; i += WG) {
    scaled[base + i] = (features[base + i] - mn) / denom;
  }
}
