// preprocess.wgsl — planar RGB in [0,1] -> normalised network input.
//
// out[c, y, x] = (rgb[c, y, x] - mean[c]) / std[c], the same float32 formula as
// normalizeImage() in src/features/backbone.ts (the CPU specification).
//
// Bindings (group 0):
//   0: uniform            Params { width, height, _pad, _pad, mean: vec4<f32>, stddev: vec4<f32> }
//   1: storage, read      rgb: array<f32>  — planar [3, height, width]
//   2: storage, read_write out: array<f32> — planar [1, 3, height, width] (the ONNX input tensor)
// Dispatch: (ceil(width / 16), ceil(height / 16), 1); one invocation per pixel, all 3 channels.

struct Params {
  width: u32,
  height: u32,
  _pad0: u32,
  _pad1: u32,
  mean: vec4<f32>,
  stddev: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rgb: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.width || gid.y >= params.height) {
    return;
  }
  let plane = params.width * params.height;
  let i = gid.y * params.width + gid.x;
  for (var c = 0u; c < 3u; c++) {
    let k = c * plane + i;
    out[k] = (rgb[k] - params.mean[c]) / params.stddev[c];
  }
}
