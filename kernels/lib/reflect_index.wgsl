// lib/reflect_index.wgsl — not a kernel: included by kernels that read reflect-padded windows
// (`//#include reflect_index`, expanded by src/gpu/kernel_source.ts).

/// Reflect i into [0, n) without repeating the edge (numpy/torch `reflect`).
/// Folds i to |i| first (reflect is symmetric about 0) so that `%` never sees a negative
/// dividend: wgpu's GLSL output computes i32 `%` as an unsigned remainder there (-1 % 10 == 5;
/// gfx-rs/wgpu#9687), and NVIDIA Vulkan does the same (gfx-rs/wgpu#8191).
fn reflectIndex(i: i32, n: i32) -> i32 {
  if (n == 1) {
    return 0;
  }
  let period = u32(2 * (n - 1));
  let m = i32(u32(abs(i)) % period);
  return select(i32(period) - m, m, m < n);
}
