// stats_hist_emd.wgsl — step 3 of the histogram-EMD statistic (CPU specification: histMap in
// src/fca/stats/hist.ts): per pixel, the 1-D earth mover's distance between each channel's
// local histogram and that channel's spatial mean histogram, averaged over channels:
//   out[y, x] = mean_c ( mean_{b < nb} | Σ_{b' <= b} rep[c, b'] - Σ_{b' <= b} hist_c(y, x)[b'] | )
// with nb = binTop[0] + 1 (largest bin index present, as torch's one_hot) and the local histogram
// of lib/local_histogram.wgsl (shared with stats_hist_mean.wgsl).
//
// Bindings (group 0):
//   0: uniform             StatsDims { channels, height, width, side (taps), ... }
//   1: storage, read       bins: array<u32>  [channels, height, width]
//   2: storage, read       taps: array<f32>  [side]
//   3: storage, read       rep:  array<f32>  [channels, MAX_BINS]
//   4: storage, read       binTop: array<u32, 4>  ([0] = largest bin index)
//   5: storage, read_write out:  array<f32>  [height, width]
// Dispatch: (gx, gy, 1) workgroups of 64 with gx*gy*64 >= height*width; the pixel index is
// (wg.y * gx + wg.x) * 64 + local index.

//#include stats_dims

@group(0) @binding(0) var<uniform> dims: StatsDims;
@group(0) @binding(1) var<storage, read> bins: array<u32>;
@group(0) @binding(2) var<storage, read> taps: array<f32>;
@group(0) @binding(3) var<storage, read> rep: array<f32>;
@group(0) @binding(4) var<storage, read> binTop: array<u32, 4>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const MAX_BINS: u32 = 16u;

//#include reflect_index

//#include local_histogram

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
  let nb = min(binTop[0] + 1u, MAX_BINS);
  var hist: array<f32, MAX_BINS>;
  var acc = 0.0;
  for (var c = 0u; c < dims.channels; c++) {
    localHistogram(c * n, p / W, p % W, &hist);
    var c1 = 0.0;
    var c2 = 0.0;
    var emd = 0.0;
    for (var b = 0u; b < nb; b++) {
      c1 += rep[c * MAX_BINS + b];
      c2 += hist[b];
      emd += abs(c1 - c2);
    }
    acc += emd / f32(nb);
  }
  out[p] = acc / f32(dims.channels);
}
