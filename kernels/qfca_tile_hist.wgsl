// qfca_tile_hist.wgsl — step 1 of QFCA's quantized median reference (CPU specification:
// quantizedMedianReference in src/fca/qfca.ts): the bin histogram of every complete, non-
// overlapping T×T tile of every channel.
//
// Bindings (group 0):
//   0: uniform             QfcaDims
//   1: storage, read       features: array<f32>  [channels, height, width], scaled
//   2: storage, read_write tileHist: array<u32>  [channels, tiles, bins]
// Dispatch: (ceil(tiles / 64), channels, 1) workgroups of 64; one invocation per (tile, channel).

//#include qfca_dims

@group(0) @binding(0) var<uniform> dims: QfcaDims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read_write> tileHist: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  let c = gid.y;
  if (t >= dims.tiles) {
    return;
  }
  let T = dims.side;
  let W = dims.width;
  let y0 = (t / dims.tilesX) * T;
  let x0 = (t % dims.tilesX) * T;
  let base = (c * dims.tiles + t) * dims.bins;
  for (var b = 0u; b < dims.bins; b++) {
    tileHist[base + b] = 0u;
  }
  let plane = c * dims.height * W;
  for (var dy = 0u; dy < T; dy++) {
    for (var dx = 0u; dx < T; dx++) {
      let b = qfcaBin(features[plane + (y0 + dy) * W + x0 + dx], dims.bins);
      tileHist[base + b] += 1u;
    }
  }
}
