// colormap.wgsl — the map as RGBA8 through a 256-entry colour lookup table.
//
//   t   = clamp((v - lo) / (hi - lo), 0, 1)   (t = 0 when hi <= lo)
//   idx = min(u32(t * 255 + 0.5), 255)
//   out = lut[idx]  (packed RGBA8: r | g << 8 | b << 16 | a << 24, i.e. bytes R, G, B, A)
// [lo, hi] is dims.lo/dims.hi when dims.fixedRange != 0, else the map's own minimum and maximum
// from map_stats.wgsl (order-preserving keys in stats[1] (inverted) and stats[0]).
//
// Bindings (group 0):
//   0: uniform             Dims { ..., fixedRange, count, lo, hi, ... }
//   1: storage, read       map:   array<f32>  [count]
//   2: storage, read       lut:   array<u32, 256>
//   3: storage, read       stats: array<u32, 4>
//   4: storage, read_write rgba:  array<u32>  [count]
// Dispatch: (gx, gy, 1) workgroups of 64 with gx*gy*64 >= count; the pixel index is
// (wg.y * gx + wg.x) * 64 + local index.

//#include fca_dims

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> map: array<f32>;
@group(0) @binding(2) var<storage, read> lut: array<u32, 256>;
@group(0) @binding(3) var<storage, read> stats: array<u32, 4>;
@group(0) @binding(4) var<storage, read_write> rgba: array<u32>;

fn fromKey(key: u32) -> f32 {
  return bitcast<f32>(select(~key, key ^ 0x80000000u, (key & 0x80000000u) != 0u));
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let p = (wg.y * nwg.x + wg.x) * 64u + lid;
  if (p >= dims.count) {
    return;
  }
  var lo = dims.lo;
  var hi = dims.hi;
  if (dims.fixedRange == 0u) {
    lo = fromKey(~stats[1]);
    hi = fromKey(stats[0]);
  }
  var t = 0.0;
  if (hi > lo) {
    t = clamp((map[p] - lo) / (hi - lo), 0.0, 1.0);
  }
  rgba[p] = lut[min(u32(t * 255.0 + 0.5), 255u)];
}
