/**
 * Small WebGPU helpers shared by the GPU stages: buffer creation, dispatch sizing for 1-D work
 * that may exceed the 65535-workgroup limit of one dimension, and buffer readback.
 * @module
 */

/**
 * Storage buffer usable as a copy source and destination (STORAGE | COPY_SRC | COPY_DST, spelled
 * as numbers so that importing this module needs no WebGPU).
 */
export const STORAGE_USAGE: number = 0x80 | 0x04 | 0x08;

/** Largest workgroup count allowed in one dispatch dimension by default limits. */
const MAX_GROUPS_PER_DIM = 65535;

/** Create a buffer of at least `bytes` bytes (rounded up to 16; never 0). */
export function createBuffer(
  device: GPUDevice,
  label: string,
  bytes: number,
  usage: number = STORAGE_USAGE,
): GPUBuffer {
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  return device.createBuffer({ label, size, usage });
}

/**
 * Workgroup grid `[gx, gy]` covering `groups` workgroups; kernels index the group as
 * `wg.y * gx + wg.x` and bounds-check, since gx * gy may exceed `groups`.
 */
export function grid2d(groups: number): [number, number] {
  const n = Math.max(1, groups);
  const gx = Math.min(n, MAX_GROUPS_PER_DIM);
  return [gx, Math.ceil(n / gx)];
}

/** Map `buffers` (MAP_READ) after the queue finishes and copy out their first `bytes` each. */
export async function readBack(buffers: GPUBuffer[], bytes: number[]): Promise<ArrayBuffer[]> {
  await Promise.all(buffers.map((b) => b.mapAsync(GPUMapMode.READ)));
  return buffers.map((b, i) => {
    const copy = b.getMappedRange(0, Math.ceil(bytes[i] / 4) * 4).slice(0);
    b.unmap();
    return copy;
  });
}
