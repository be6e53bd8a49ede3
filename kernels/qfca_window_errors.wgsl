// qfca_window_errors.wgsl — QFCA's per-window averaged errors (CPU specification:
// windowBinErrors in src/fca/qfca.ts, fast twin src/fca/fast/qfca_kernel.ts): for every window p
// (reflect-padded T×T around each pixel) and channel c of the chunk [c0, c0 + chunk), the bin
// histogram h, its cumulative H, and for every bin present
//   errors[b] = Σ_{k = H[b−1]}^{H[b]−1} |b − reference[c, k]| / h[b]
// (in bin units; the host divides the map by C·B). Bins absent from the window get 0.
//
// Bindings (group 0):
//   0: uniform             QfcaDims
//   1: storage, read       features:  array<f32>  [channels, height, width], scaled
//   2: storage, read       reference: array<u32>  [channels, T·T] (bins)
//   3: storage, read_write errors:    array<f32>  [chunk, height·width, bins]
// Dispatch: (gx, gy, 1) workgroups of 64 with gx·gy·64 >= height·width·chunk; the invocation
// index is (wg.y·gx + wg.x)·64 + local index = cl·height·width + p.

//#include qfca_dims

//#include reflect_index

@group(0) @binding(0) var<uniform> dims: QfcaDims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> reference: array<u32>;
@group(0) @binding(3) var<storage, read_write> errors: array<f32>;

const MAX_BINS: u32 = 256u;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let H = dims.height;
  let W = dims.width;
  let n = H * W;
  let g = (wg.y * nwg.x + wg.x) * 64u + lid;
  if (g >= n * dims.chunk) {
    return;
  }
  let cl = g / n;
  let p = g % n;
  let c = dims.c0 + cl;
  let i = i32(p / W);
  let j = i32(p % W);
  let half = i32(dims.side / 2u);
  var hist: array<u32, MAX_BINS>;
  let plane = c * n;
  for (var dy = -half; dy <= half; dy++) {
    let y = u32(reflectIndex(i + dy, i32(H)));
    for (var dx = -half; dx <= half; dx++) {
      let x = u32(reflectIndex(j + dx, i32(W)));
      hist[qfcaBin(features[plane + y * W + x], dims.bins)] += 1u;
    }
  }
  let area = dims.side * dims.side;
  let ref0 = c * area;
  let out0 = g * dims.bins;
  var k = 0u;
  for (var b = 0u; b < dims.bins; b++) {
    let m = hist[b];
    var sum = 0u;
    for (var r = 0u; r < m; r++) {
      let q = reference[ref0 + k + r];
      sum += select(q - b, b - q, b >= q);
    }
    k += m;
    errors[out0 + b] = select(0.0, f32(sum) / f32(max(m, 1u)), m > 0u);
  }
}
