// lib/local_histogram.wgsl — not a kernel: the Gaussian-weighted local histogram shared by
// stats_hist_mean.wgsl and stats_hist_emd.wgsl (`//#include local_histogram`). Uses the
// including kernel's `dims: StatsDims`, `bins`, `taps` and `MAX_BINS`, and reflect_index.

/// Gaussian-weighted histogram of the window centred on (y, x) of the plane starting at base.
fn localHistogram(base: u32, y: u32, x: u32, hist: ptr<function, array<f32, MAX_BINS>>) {
  let T = dims.side;
  let r = i32(T / 2u);
  let H = dims.height;
  let W = dims.width;
  for (var b = 0u; b < MAX_BINS; b++) {
    (*hist)[b] = 0.0;
  }
  var row: array<f32, MAX_BINS>;
  for (var a = 0u; a < T; a++) {
    for (var b = 0u; b < MAX_BINS; b++) {
      row[b] = 0.0;
    }
    let ry = u32(reflectIndex(i32(y + a) - r, i32(H)));
    for (var t = 0u; t < T; t++) {
      let rx = u32(reflectIndex(i32(x + t) - r, i32(W)));
      let k = bins[base + ry * W + rx];
      row[k] += taps[t];
    }
    let g = taps[a];
    for (var b = 0u; b < MAX_BINS; b++) {
      (*hist)[b] += g * row[b];
    }
  }
}
