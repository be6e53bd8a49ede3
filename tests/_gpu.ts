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

/** What {@link countSubmitsAndMaps} saw: submissions, and the submission count at each mapAsync. */
export interface SubmitLog {
  submits: number;
  /** For each `mapAsync` call, how many submissions had been made before it. */
  maps: number[];
}

/**
 * Run `fn` while counting queue submissions and buffer maps (readbacks); the prototypes are
 * restored afterwards. A computation with no readback before its final results shows one
 * submission and every map after it.
 */
export async function countSubmitsAndMaps<T>(fn: () => Promise<T>): Promise<[T, SubmitLog]> {
  const submit = GPUQueue.prototype.submit;
  const mapAsync = GPUBuffer.prototype.mapAsync;
  const log: SubmitLog = { submits: 0, maps: [] };
  GPUQueue.prototype.submit = function (this: GPUQueue, ...args) {
    log.submits++;
    return submit.apply(this, args);
  };
  GPUBuffer.prototype.mapAsync = function (this: GPUBuffer, ...args) {
    log.maps.push(log.submits);
    return mapAsync.apply(this, args);
  };
  try {
    return [await fn(), log];
  } finally {
    GPUQueue.prototype.submit = submit;
    GPUBuffer.prototype.mapAsync = mapAsync;
  }
}
