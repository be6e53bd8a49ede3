// stats_hist_mean.wgsl — step 2 of the histogram-EMD statistic (CPU specification: histMap in
// src/fca/stats/hist.ts): the spatial mean of the local histograms of each channel.
//
// The local histogram at (y, x) is the one-hot of the bin indices blurred by the T-tap Gaussian
// (2-D kernel = outer product, reflect padding by T/2, edge not repeated), i.e.
//   hist[b] = Σ_a taps[a] · Σ_t taps[t] · [bins(reflect(y+a-T/2), reflect(x+t-T/2)) == b]
// (row sums first, as the separable CPU blur). rep[c, b] = mean over all pixels of hist[b].
//
// Bindings (group 0):
//   0: uniform             StatsDims { channels, height, width, side (taps), ... }
//   1: storage, read       bins: array<u32>  [channels, height, width] (stats_hist_bins.wgsl)
//   2: storage, read       taps: array<f32>  [side] normalised Gaussian
//   3: storage, read_write rep:  array<f32>  [channels, MAX_BINS] (unused bins stay 0)
// Dispatch: (channels, 1, 1); one workgroup of 256 invocations per channel.

//#include stats_dims

@group(0) @binding(0) var<uniform> dims: StatsDims;
@group(0) @binding(1) var<storage, read> bins: array<u32>;
@group(0) @binding(2) var<storage, read> taps: array<f32>;
@group(0) @binding(3) var<storage, read_write> rep: array<f32>;

const WG: u32 = 256u;
const MAX_BINS: u32 = 16u;
var<workgroup> red: array<f32, WG>;

//#include reflect_index

//#include local_histogram

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wg.x;
  let W = dims.width;
  let n = dims.height * W;
  var sums: array<f32, MAX_BINS>;
  var hist: array<f32, MAX_BINS>;
  for (var i = lid; i < n; i += WG) {
    localHistogram(c * n, i / W, i % W, &hist);
    for (var b = 0u; b < MAX_BINS; b++) {
      sums[b] += hist[b];
    }
  }
  for (var b = 0u; b < MAX_BINS; b++) {
    red[lid] = sums[b];
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
      if (lid < s) {
        red[lid] += red[lid + s];
      }
      workgroupBarrier();
    }
    if (lid == 0u) {
      rep[c * MAX_BINS + b] = red[0] / f32(n);
    }
    workgroupBarrier(); // red is rewritten for the next bin
  }
}
