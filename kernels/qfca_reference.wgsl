// qfca_reference.wgsl — step 2 of QFCA's quantized median reference (CPU specification:
// quantizedMedianReference in src/fca/qfca.ts): for every channel and rank k < T·T, the lower
// median over tiles of the tile's rank-k bin (read off each tile's cumulative histogram).
//
// Bindings (group 0):
//   0: uniform             QfcaDims
//   1: storage, read       tileHist:  array<u32>  [channels, tiles, bins]
//   2: storage, read_write reference: array<u32>  [channels, T·T] (bins)
// Dispatch: (ceil(T·T / 64), channels, 1) workgroups of 64; one invocation per (rank, channel).

//#include qfca_dims

@group(0) @binding(0) var<uniform> dims: QfcaDims;
@group(0) @binding(1) var<storage, read> tileHist: array<u32>;
@group(0) @binding(2) var<storage, read_write> reference: array<u32>;

const MAX_BINS: u32 = 256u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let c = gid.y;
  let area = dims.side * dims.side;
  if (k >= area) {
    return;
  }
  var count: array<u32, MAX_BINS>;
  for (var t = 0u; t < dims.tiles; t++) {
    let base = (c * dims.tiles + t) * dims.bins;
    var cum = 0u;
    var b = 0u;
    loop {
      cum += tileHist[base + b];
      if (cum > k || b + 1u >= dims.bins) {
        break;
      }
      b++;
    }
    count[b] += 1u;
  }
  let mid = (dims.tiles - 1u) / 2u;
  var seen = count[0];
  var b = 0u;
  while (seen <= mid && b + 1u < dims.bins) {
    b++;
    seen += count[b];
  }
  reference[c * area + k] = b;
}
