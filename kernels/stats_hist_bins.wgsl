// stats_hist_bins.wgsl — step 1 of the histogram-EMD statistic (reference `sc_hist`, golden
// convention 11; CPU specification: histMap/binIndices in src/fca/stats/hist.ts): per-channel
// min-max re-scaling and binning.
//
//   scaled = (x - min_c) / ((max_c - min_c) + 1e-8),  bin = floor(factor * scaled)   (f32)
// with factor = f32(0.999 * bins). The largest bin index of all channels goes to binTop[0]: torch's
// one_hot sizes the class axis by it, so later steps use nb = binTop[0] + 1 bins. The host clears
// binTop before the pass.
//
// Bindings (group 0):
//   0: uniform             StatsDims { channels, height, width, side, bins, factor, ... }
//   1: storage, read       features: array<f32>  [channels, height, width]
//   2: storage, read_write bins:     array<u32>  [channels, height, width]
//   3: storage, read_write binTop:     array<atomic<u32>, 4>  ([0] = largest bin index)
// Dispatch: (channels, 1, 1); one workgroup of 256 invocations per channel.

//#include stats_dims

@group(0) @binding(0) var<uniform> dims: StatsDims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read_write> bins: array<u32>;
@group(0) @binding(3) var<storage, read_write> binTop: array<atomic<u32>, 4>;

const WG: u32 = 256u;
const MAX_BINS: u32 = 16u; // capacity of the later steps' per-pixel histograms
var<workgroup> loS: array<f32, WG>;
var<workgroup> hiS: array<f32, WG>;
var<workgroup> binS: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wg.x;
  let n = dims.height * dims.width;
  let base = c * n;
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var i = lid; i < n; i += WG) {
    let v = features[base + i];
    lo = min(lo, v);
    hi = max(hi, v);
  }
  loS[lid] = lo;
  hiS[lid] = hi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      loS[lid] = min(loS[lid], loS[lid + s]);
      hiS[lid] = max(hiS[lid], hiS[lid + s]);
    }
    workgroupBarrier();
  }
  let mn = loS[0];
  let denom = (hiS[0] - mn) + 1e-8;
  var top = 0u;
  for (var i = lid; i < n; i += WG) {
    let scaled = (features[base + i] - mn) / denom;
    // scaled is in [0, 1], so the index is below bins; the clamp only guards memory.
    let b = min(u32(floor(dims.factor * scaled)), MAX_BINS - 1u);
    bins[base + i] = b;
    top = max(top, b);
  }
  binS[lid] = top;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      binS[lid] = max(binS[lid], binS[lid + s]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    atomicMax(&binTop[0], binS[0]);
  }
}
