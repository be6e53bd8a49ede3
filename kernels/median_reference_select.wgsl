// median_reference_select.wgsl — step 2 of the median reference (convention 2 in docs/conventions.md): for
// every (channel, rank) the LOWER median over tiles of the tile-sorted values, by selection
// through counting.
//
// Invocation (c, r, t) computes the stable rank of column value v_t among the column's values;
// exactly one tile has stable rank (tiles-1)>>1 (ties included), and it writes ref[c, r] = v_t.
//
// Bindings (group 0):
//   0: uniform             Dims { channels, height, width, side, tilesX, tilesY, ... }
//   1: storage, read       sorted:    array<f32>  [channels, T*T, tilesY*tilesX]
//   2: storage, read_write reference: array<f32>  [channels, T*T]
// Dispatch: (ceil(tilesY*tilesX / 64), T*T, channels); workgroup 64.

//#include fca_dims

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> sorted: array<f32>;
@group(0) @binding(2) var<storage, read_write> reference: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let tiles = dims.tilesX * dims.tilesY;
  let t = gid.x;
  if (t >= tiles) {
    return;
  }
  let area = dims.side * dims.side;
  let row = gid.z * area + gid.y;
  let col = row * tiles;
  let v = sorted[col + t];
  var rank = 0u;
  for (var u = 0u; u < tiles; u++) {
    let w = sorted[col + u];
    rank += select(0u, 1u, w < v || (w == v && u < t));
  }
  if (rank == (tiles - 1u) / 2u) {
    reference[row] = v;
  }
}
