// reference_tile.wgsl — the random reference (paper Sec. 3.3; CPU specification: randomReference
// in src/fca/references.ts): the T×T window of the unpadded map with top-left (tile.y0, tile.x0),
// sorted per channel. The host draws the origin from the seed with randomReferenceOrigin (the
// draw of randomReference).
//
// Invocation (k, c) takes value k of the window (row-major) and computes its stable rank
//   rank = #{m : x_m < x_k} + #{m < k : x_m == x_k}
// which is a permutation of 0..T*T-1, then writes reference[c, rank] = x_k (ascending order, as
// the CPU's sort; equal values are interchangeable).
//
// Bindings (group 0):
//   0: uniform             Dims { channels, height, width, side, ... }
//   1: uniform             TileOrigin { y0, x0 } (y0 + T <= height, x0 + T <= width)
//   2: storage, read       features:  array<f32>  [channels, height, width]
//   3: storage, read_write reference: array<f32>  [channels, T*T]
// Dispatch: (ceil(T*T / 64), channels, 1); workgroup 64.

//#include fca_dims

struct TileOrigin {
  y0: u32,
  x0: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> tile: TileOrigin;
@group(0) @binding(2) var<storage, read> features: array<f32>;
@group(0) @binding(3) var<storage, read_write> reference: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = dims.side;
  let area = T * T;
  let k = gid.x;
  if (k >= area) {
    return;
  }
  let c = gid.y;
  let base = c * dims.height * dims.width + tile.y0 * dims.width + tile.x0;
  let v = features[base + (k / T) * dims.width + k % T];
  var rank = 0u;
  for (var m = 0u; m < area; m++) {
    let u = features[base + (m / T) * dims.width + m % T];
    rank += select(0u, 1u, u < v || (u == v && m < k));
  }
  reference[c * area + rank] = v;
}
