/**
 * The process's one GPU device for tests (several devices at once can crash wgpu's GL backend at
 * exit) and a Deno.test wrapper for tests that share it.
 * @module
 */
import { acquireGpu, type GpuContext } from "../src/gpu/device.ts";
import { skipWithoutGpu } from "./_shared.ts";

/** The shared device, or null when there is no adapter. */
export const SHARED_GPU: GpuContext | null = await acquireGpu({ allowFallback: true })
  .catch(() => null);

/**
 * A test on the shared device, ignored without an adapter (failing instead under
 * `FCA_REQUIRE_GPU=1`) or when `ignore` (from `skipWithoutShared`); the sanitizers cannot apply.
 */
export function gpuTest(name: string, fn: () => Promise<void>, ignore = false): void {
  Deno.test({
    name,
    ignore: skipWithoutGpu(SHARED_GPU !== null) || ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    fn,
  });
}
