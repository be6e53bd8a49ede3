// map_stats.wgsl — minimum and maximum of the final map (the score is the maximum; both bound
// the colormap unless the caller fixes the range).
//
// Floats are mapped to order-preserving u32 keys (sign bit set: invert all bits; else set the
// sign bit) so the reduction ends in plain atomics: stats[0] = max key, stats[1] = max of the
// inverted key (= the minimum). The host clears stats to 0 before the pass and decodes:
//   key -> bits = (key & 0x80000000) != 0 ? key ^ 0x80000000 : ~key.
//
// Bindings (group 0):
//   0: uniform             Dims { ..., count (number of map values), ... }
//   1: storage, read       map:   array<f32>  [count]
//   2: storage, read_write stats: array<atomic<u32>, 4>  ([0], [1] written here)
// Dispatch: (gx, gy, 1) workgroups of 256 with gx*gy*4096 >= count; each workgroup reduces the
// 4096 values starting at (wg.y * gx + wg.x) * 4096.

//#include fca_dims

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> map: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<atomic<u32>, 4>;

const WG: u32 = 256u;
const CHUNK: u32 = 4096u;
var<workgroup> hiS: array<u32, WG>;
var<workgroup> loS: array<u32, WG>;

fn orderKey(v: f32) -> u32 {
  let bits = bitcast<u32>(v);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let start = (wg.y * nwg.x + wg.x) * CHUNK;
  let end = min(start + CHUNK, dims.count);
  var hi = 0u;
  var lo = 0u;
  for (var i = start + lid; i < end; i += WG) {
    let key = orderKey(map[i]);
    hi = max(hi, key);
    lo = max(lo, ~key);
  }
  hiS[lid] = hi;
  loS[lid] = lo;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      hiS[lid] = max(hiS[lid], hiS[lid + s]);
      loS[lid] = max(loS[lid], loS[lid + s]);
    }
    workgroupBarrier();
  }
  if (lid == 0u && start < end) {
    atomicMax(&stats[0], hiS[0]);
    atomicMax(&stats[1], loS[0]);
  }
}
