// crop_features.wgsl — the feature half of `--pad` (CPU specification: cropFeatures in
// src/pipeline/tiling/fca.ts): the backbone ran on the image reflect-padded by `cells` feature
// cells' worth of pixels, and this copies the map without that border,
//   dst[c, y, x] = src[c, y + cells, x + cells]   for y < height, x < width.
//
// Bindings (group 0):
//   0: uniform             CropDims { channels, height, width, cells, inHeight, inWidth }
//   1: storage, read       src: array<f32>  [channels, inHeight, inWidth]
//   2: storage, read_write dst: array<f32>  [channels, height, width]
// Dispatch: grid2d(ceil(channels * height * width / 64)) as (x, y, 1); workgroup 64. The group
// index is wg.y * num_workgroups.x + wg.x; invocations past the end return.

struct CropDims {
  channels: u32,
  height: u32,
  width: u32,
  cells: u32,
  inHeight: u32,
  inWidth: u32,
}

@group(0) @binding(0) var<uniform> dims: CropDims;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.y * groups.x + wg.x) * 64u + lid;
  let plane = dims.height * dims.width;
  if (i >= dims.channels * plane) {
    return;
  }
  let c = i / plane;
  let r = i % plane;
  let y = r / dims.width + dims.cells;
  let x = r % dims.width + dims.cells;
  dst[i] = src[(c * dims.inHeight + y) * dims.inWidth + x];
}
