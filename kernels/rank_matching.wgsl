// rank_matching.wgsl — windowed rank matching with the σs blur and σp weights (reference
// conventions 3–6; CPU specification: windowErrors/blurPatch in src/fca/rank_matching.ts).
//
// For the window centred on pixel (i, j) of the reflect-padded map and each channel c, value k
// (row-major in the T×T window) has the stable rank
//   rank_k = #{m : x_m < x_k} + #{m < k : x_m == x_k}
// and error |x_k - ref[c, rank_k]|; errors are summed over channels in channel order (f32) and
// divided by C. The T×T error map is then blurred by the 5×5 Gaussian with reflect padding
// inside the window (when dims.blur != 0), multiplied by the σp weight of position k and
// written to contrib[window, k]; overlap_add.wgsl gathers these into the map.
//
// Zero shortcut (exact for any input): zeros are tracked as a bitmask per window, negatives
// as a count. A zero's rank is (#negatives) + (#zeros before it), a popcount; a non-zero value
// only compares against the window's non-zeros (walking the complement of the mask) and, when
// positive, adds the zero count. Real ReLU features are about 2/3 zeros.
//
// Layout of a workgroup: 256 invocations = windowsPerGroup horizontally consecutive windows
// (raster order) × T*T values; invocation lid handles window slot lid / (T*T), value
// k = lid % (T*T) for every channel, accumulating its error in a register. Per channel, each
// invocation loads its own value one channel ahead (neighbouring windows share the loads
// through the cache); values, masks and counts are triple-buffered in workgroup memory so that
// one barrier per channel suffices (a set is cleared two channels before it is rewritten).
// Requires T*T <= 256 and windowsPerGroup = min(32, floor(256 / (T*T))).
//
// Bindings (group 0):
//   0: uniform             Dims { channels, height, width, side, ..., windowsPerGroup, blur, ... }
//   1: storage, read       features:  array<f32>  [channels, height, width] (scaled)
//   2: storage, read       reference: array<f32>  [channels, T*T]
//   3: storage, read       weights:   array<f32>  [T*T σp weights, then 5 σs blur taps]
//   4: storage, read_write contrib:   array<f32>  [height*width windows, T*T]
// Dispatch: (gx, gy, 1) workgroups of 256 with gx*gy >= ceil(height*width / windowsPerGroup);
// the group index is wg.y * gx + wg.x.

//#include fca_dims

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> reference: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> contrib: array<f32>;

const WG: u32 = 256u;
const SETS: u32 = 3u;
const MAX_WORDS: u32 = 32u; // windowsPerGroup * ceil(T*T / 32) <= 32 for every T

var<workgroup> vals: array<f32, 768>;            // SETS × WG
var<workgroup> zeroMask: array<atomic<u32>, 96>; // SETS × MAX_WORDS
var<workgroup> negCount: array<atomic<u32>, 96>; // SETS × 32 windows
var<workgroup> errs: array<f32, WG>;

//#include reflect_index

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let T = dims.side;
  let area = T * T;
  let half = i32(T / 2u);
  let H = dims.height;
  let W = dims.width;
  let words = (area + 31u) / 32u;
  let slot = lid / area;
  let k = lid % area;
  let window = (wg.y * nwg.x + wg.x) * dims.windowsPerGroup + slot;
  let live = slot < dims.windowsPerGroup && window < H * W;
  let dy = k / T;
  let dx = k % T;
  var pix = 0u;
  if (live) {
    let y = reflectIndex(i32(window / W) + i32(dy) - half, i32(H));
    let x = reflectIndex(i32(window % W) + i32(dx) - half, i32(W));
    pix = u32(y) * W + u32(x);
  }
  let maskBase = slot * words;
  let kWord = k / 32u;
  let kBit = 1u << (k % 32u);

  if (lid < SETS * MAX_WORDS) {
    atomicStore(&zeroMask[lid], 0u);
    atomicStore(&negCount[lid], 0u);
  }
  workgroupBarrier();

  var acc = 0.0;
  var upcoming = 0.0; // next channel's value, loaded early so the barrier does not wait on memory
  if (live) {
    upcoming = features[pix];
  }
  for (var c = 0u; c < dims.channels; c++) {
    let s = c % SETS;
    let v = upcoming;
    if (live) {
      vals[s * WG + lid] = v;
      if (v == 0.0) {
        atomicOr(&zeroMask[s * MAX_WORDS + maskBase + kWord], kBit);
      } else if (v < 0.0) {
        atomicAdd(&negCount[s * 32u + slot], 1u);
      }
    }
    workgroupBarrier();
    if (live) {
      if (c + 1u < dims.channels) {
        upcoming = features[(c + 1u) * H * W + pix];
      }
      var rank = 0u;
      if (v == 0.0) {
        rank = atomicLoad(&negCount[s * 32u + slot]);
        for (var w = 0u; w < kWord; w++) {
          rank += countOneBits(atomicLoad(&zeroMask[s * MAX_WORDS + maskBase + w]));
        }
        rank += countOneBits(atomicLoad(&zeroMask[s * MAX_WORDS + maskBase + kWord]) & (kBit - 1u));
      } else {
        var zeros = 0u;
        for (var w = 0u; w < words; w++) {
          let z = atomicLoad(&zeroMask[s * MAX_WORDS + maskBase + w]);
          zeros += countOneBits(z);
          let rest = area - w * 32u;
          let valid = select((1u << rest) - 1u, 0xffffffffu, rest >= 32u);
          var bits = ~z & valid;
          while (bits != 0u) {
            let m = w * 32u + firstTrailingBit(bits);
            bits &= bits - 1u;
            let u = vals[s * WG + slot * area + m];
            rank += select(0u, 1u, u < v || (u == v && m < k));
          }
        }
        if (v > 0.0) {
          rank += zeros;
        }
      }
      acc += abs(v - reference[c * area + rank]);
    }
    // Set (c + 2) % 3 was last read in channel c - 1, which every invocation has finished.
    let next = (c + 2u) % SETS;
    if (lid < MAX_WORDS) {
      atomicStore(&zeroMask[next * MAX_WORDS + lid], 0u);
      atomicStore(&negCount[next * 32u + lid], 0u);
    }
  }

  errs[lid] = acc / f32(dims.channels);
  workgroupBarrier();
  if (!live) {
    return;
  }
  var m = errs[lid];
  if (dims.blur != 0u) {
    var s = 0.0;
    for (var a = 0; a < 5; a++) {
      let yy = u32(reflectIndex(i32(dy) + a - 2, i32(T)));
      let ga = weights[area + u32(a)];
      for (var b = 0; b < 5; b++) {
        let xx = u32(reflectIndex(i32(dx) + b - 2, i32(T)));
        s += ga * weights[area + u32(b)] * errs[slot * area + yy * T + xx];
      }
    }
    m = s;
  }
  contrib[window * area + k] = weights[k] * m;
}
