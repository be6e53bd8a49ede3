// fuse_scales.wgsl — one scale's map added into the fused map of `--cells 50,80` (CPU
// specification: fuseScales in src/fca/fuse_scales.ts): the scale's feature-resolution map is
// resized bilinearly onto the fused grid (the upsampling's taps, bilinearTaps() on the host) and
// accumulated with the scale's weight, in float32, one dispatch per scale in scale order:
//   dst[p] = (first ? 0 : dst[p]) + weight · bilinear(src)(p).
//
// Bindings (group 0):
//   0: uniform             FuseDims { height, width (src), outHeight, outWidth (dst), weight, first }
//   1: storage, read       src:  array<f32>  [height, width]
//   2: storage, read       taps: array<Tap>  [outHeight row taps, then outWidth column taps]
//   3: storage, read_write dst:  array<f32>  [outHeight, outWidth]
// Dispatch: grid2d(ceil(outHeight * outWidth / 64)) as (x, y, 1); workgroup 64. The pixel index
// is (wg.y * num_workgroups.x + wg.x) * 64 + local index; invocations past the end return.

struct FuseDims {
  height: u32,
  width: u32,
  outHeight: u32,
  outWidth: u32,
  weight: f32,
  first: u32,
}

//#include bilinear

@group(0) @binding(0) var<uniform> dims: FuseDims;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> taps: array<Tap>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let p = (wg.y * nwg.x + wg.x) * 64u + lid;
  if (p >= dims.outHeight * dims.outWidth) {
    return;
  }
  let v = dims.weight * bilinearAt(p);
  var prior = 0.0;
  if (dims.first == 0u) {
    prior = dst[p];
  }
  dst[p] = prior + v;
}
