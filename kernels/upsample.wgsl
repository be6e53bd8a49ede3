// upsample.wgsl — bilinear resize of the FCA map to the output size, as skimage resize(order=1)
// enlarges (convention 10 in docs/conventions.md; CPU specification: src/fca/upsample.ts): half-pixel
// centres, mirrored borders. The taps (i0, i1, w1) per output row and column come from the
// host's bilinearTaps(), so they are bit-identical to the CPU's; the blend is the CPU formula
//   top = a + (b - a)·wx,  bottom = c + (d - c)·wx,  out = top + (bottom - top)·wy.
//
// Bindings (group 0):
//   0: uniform             Dims { ..., height, width (input), ..., outHeight, outWidth, ... }
//   1: storage, read       src:  array<f32>  [height, width]
//   2: storage, read       taps: array<Tap>  [outHeight row taps, then outWidth column taps]
//   3: storage, read_write dst:  array<f32>  [outHeight, outWidth]
// Dispatch: (gx, gy, 1) workgroups of 64 with gx*gy*64 >= outHeight*outWidth; the pixel index
// is (wg.y * gx + wg.x) * 64 + local index.

//#include fca_dims
//#include bilinear

@group(0) @binding(0) var<uniform> dims: Dims;
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
  dst[p] = bilinearAt(p);
}
