/**
 * The wasm kernels (rank matching and median reference, built from `rank_kernel.as` and carried
 * as base64) and the shared memory they run in: compiled once per engine, instantiated once per
 * thread over the same memory.
 * @module
 */
import { RANK_KERNEL_WASM } from "./rank_kernel_wasm.ts";

/** Largest shared memory, in 64 KiB pages (2 GiB: a 256×256×512 map needs about 0.4 GiB). */
export const MAX_PAGES = 32768;

/** Exports of the kernel module. */
export interface Kernel {
  /** See `rank_kernel.as`: adds the errors of nch channels of `rows` rows of windows to acc. */
  rank(
    band: number,
    plane: number,
    nch: number,
    mins: number,
    ref: number,
    acc: number,
    scr: number,
    W: number,
    T: number,
    PW: number,
    useMasks: number,
    rows: number,
    rowBytes: number,
  ): void;
  /**
   * See `rank_kernel.as`: the same sums as `rank` with minima masks (T ≤ 31), computed value by
   * value over each row's band instead of window by window.
   */
  rankBand(
    band: number,
    plane: number,
    nch: number,
    mins: number,
    ref: number,
    acc: number,
    scr: number,
    W: number,
    T: number,
    PW: number,
    rows: number,
    rowBytes: number,
  ): void;
  /** Scratch bytes `rank` and `rankBand` need for patch T and padded width PW. */
  scratchBytes(T: number, PW: number): number;
  /** See `rank_kernel.as`: median reference of one channel (lower median over tiles per rank). */
  median(
    tile0: number,
    PW: number,
    T: number,
    ty: number,
    tx: number,
    mn: number,
    out: number,
    scr: number,
  ): void;
  /** Scratch bytes `median` needs for `tiles` tiles of patch T. */
  medianScratchBytes(T: number, tiles: number): number;
}

/** Compile the kernel module (synchronous: the module is about 5 KiB). */
export function compileKernel(): WebAssembly.Module {
  return new WebAssembly.Module(Uint8Array.fromBase64(RANK_KERNEL_WASM));
}

/** A growable shared memory of at least `bytes`. */
export function newSharedMemory(bytes: number): WebAssembly.Memory {
  return new WebAssembly.Memory({
    initial: Math.ceil(bytes / 65536),
    maximum: MAX_PAGES,
    shared: true,
  });
}

/** Instantiate the kernel over `memory`. */
export function instantiateKernel(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernel {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as Kernel;
}
