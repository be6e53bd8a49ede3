// lib/local_moments.wgsl — not a kernel: the Gaussian-weighted local moments 1..4 shared by
// stats_moments_mean.wgsl and stats_moments_map.wgsl (`//#include local_moments`). Uses the
// including kernel's `dims: StatsDims`, `features` and `taps`, and reflect_index.

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
