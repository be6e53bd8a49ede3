// qfca_gather.wgsl — QFCA's overlap-add (CPU specification: qfcaMap in src/fca/qfca.ts): every
// pixel x adds, for each channel c of the chunk, the σp-weighted errors of its own bin in every
// window of the image that holds it:
//   map[x] += Σ_c Σ_{p ∋ x} w(x − p) · errors[c, p, q_c(x)]
// One invocation per pixel, so chunks accumulate without atomics (the first chunk overwrites).
//
// Bindings (group 0):
//   0: uniform             QfcaDims
//   1: storage, read       features: array<f32>  [channels, height, width], scaled
//   2: storage, read       errors:   array<f32>  [chunk, height·width, bins]
//   3: storage, read       weights:  array<f32>  [T·T] (σp, row-major)
//   4: storage, read_write map:      array<f32>  [height·width]
// Dispatch: (gx, gy, 1) workgroups of 64 with gx·gy·64 >= height·width.

//#include qfca_dims

@group(0) @binding(0) var<uniform> dims: QfcaDims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> errors: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> map: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let H = i32(dims.height);
  let W = i32(dims.width);
  let n = u32(H * W);
  let p = (wg.y * nwg.x + wg.x) * 64u + lid;
  if (p >= n) {
    return;
  }
  let i = i32(p) / W;
  let j = i32(p) % W;
  let T = i32(dims.side);
  let half = T / 2;
  var acc = 0.0;
  for (var cl = 0u; cl < dims.chunk; cl++) {
    let c = dims.c0 + cl;
    let b = qfcaBin(features[c * n + p], dims.bins);
    let base = cl * n;
    for (var dy = -half; dy <= half; dy++) {
      let y = i - dy;
      if (y < 0 || y >= H) {
        continue;
      }
      for (var dx = -half; dx <= half; dx++) {
        let x = j - dx;
        if (x < 0 || x >= W) {
          continue;
        }
        let w = weights[u32((dy + half) * T + dx + half)];
        acc += w * errors[(base + u32(y * W + x)) * dims.bins + b];
      }
    }
  }
  map[p] = select(map[p] + acc, acc, dims.c0 == 0u);
}
