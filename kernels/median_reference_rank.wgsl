// median_reference_rank.wgsl — step 1 of the median reference (convention 2 in docs/conventions.md;
// CPU specification: src/fca/median_reference.ts): sorts every complete, non-overlapping T×T tile
// of every channel by rank counting.
//
// Invocation (c, tile, k) takes value k of the tile (row-major) and computes its stable rank
//   rank = #{m : x_m < x_k} + #{m < k : x_m == x_k}
// which is a permutation of 0..T*T-1, then writes it to sorted[c, rank, tile]: rank-major so
// that step 2 reads each (channel, rank) column contiguously.
//
// Bindings (group 0):
//   0: uniform             Dims { channels, height, width, side, tilesX, tilesY, ... }
//   1: storage, read       features: array<f32>  [channels, height, width]
//   2: storage, read_write sorted:   array<f32>  [channels, T*T, tilesY*tilesX]
// Dispatch: (ceil(tilesY*tilesX*T*T / 64), channels, 1); workgroup 64.

//#include fca_dims

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read_write> sorted: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = dims.side;
  let area = T * T;
  let tiles = dims.tilesX * dims.tilesY;
  if (gid.x >= tiles * area) {
    return;
  }
  let c = gid.y;
  let t = gid.x / area;
  let k = gid.x % area;
  let y0 = (t / dims.tilesX) * T;
  let x0 = (t % dims.tilesX) * T;
  let base = c * dims.height * dims.width + y0 * dims.width + x0;
  let v = features[base + (k / T) * dims.width + k % T];
  var rank = 0u;
  for (var m = 0u; m < area; m++) {
    let u = features[base + (m / T) * dims.width + m % T];
    rank += select(0u, 1u, u < v || (u == v && m < k));
  }
  sorted[(c * area + rank) * tiles + t] = v;
}
