/**
 * QFCA on WebGPU (docs/qfca.md; CPU specification `qfcaMap` in src/fca/qfca.ts, CPU twin
 * src/fca/fast/qfca.ts): one command encoder and one submission per map.
 *
 * 1. kernels/qfca_tile_hist.wgsl + qfca_reference.wgsl: the quantized median reference (unless
 *    the caller gives one, as the tiled path does).
 * 2. Per chunk of channels (so that the [chunk, H·W, B] error table stays within
 *    {@link QFCA_ERRORS_BYTES}): kernels/qfca_window_errors.wgsl (histogram of every window,
 *    averaged errors of its bins) then kernels/qfca_gather.wgsl (each pixel adds the σp-weighted
 *    errors of its own bin in the windows that hold it; the first chunk overwrites the map).
 * 3. Read back; the host scales by 1/(C·B) and applies the σs blur of the map (`blurMap`).
 *
 * Host features ({@link GpuQfca.map}) are uploaded first; device features (the backbone's output,
 * {@link GpuQfca.mapDevice}) stay on the device: kernels/minmax_scale.wgsl scales them in the same
 * submission, and the only readback is the H×W map (with the scaling's NaN/Inf flag).
 * @module
 */
import { patchWeights, validateParams } from "../fca/params.ts";
import { blurMap, checkBins } from "../fca/qfca.ts";
import { tileCounts } from "../fca/median_reference.ts";
import type { FcaParams, FeatureMap, ScalarMap } from "../fca/types.ts";
import { SerialQueue } from "../base/serial_queue.ts";
import { createBuffer, readBack } from "./buffers.ts";
import { type CompiledKernel, compileKernels, createBindGroup, dispatchOf } from "./kernels.ts";
import { writeStruct } from "./wgsl_reflect.ts";
import { checkFinite } from "./fca_gpu.ts";

/** Most bytes of one chunk's error table. */
export const QFCA_ERRORS_BYTES = 128 << 20;

const NAMES = [
  "minmax_scale",
  "qfca_tile_hist",
  "qfca_reference",
  "qfca_window_errors",
  "qfca_gather",
] as const;
type Name = typeof NAMES[number];

/** QFCA maps of host features on one device. */
export class GpuQfca {
  #queue = new SerialQueue();
  #buffers: GPUBuffer[] = [];

  private constructor(
    readonly device: GPUDevice,
    private readonly k: { [N in Name]: CompiledKernel<N> },
  ) {}

  /** Compile the kernels for `device` (once per device). */
  static async create(device: GPUDevice): Promise<GpuQfca> {
    const k = await compileKernels(device, NAMES);
    return new GpuQfca(device, k as unknown as { [N in Name]: CompiledKernel<N> });
  }

  /**
   * QFCA map (H×W) of min-max scaled `features` with `bins` bins, against `reference`
   * (`[C, T·T]` bins) or the quantized median reference computed on the device.
   */
  map(
    features: FeatureMap,
    params: FcaParams,
    bins: number,
    reference?: Uint8Array,
  ): Promise<ScalarMap> {
    const { channels: C, height: H, width: W } = features;
    const bad = argumentError(params, bins) ??
      (features.data.length !== C * H * W
        ? new Error(
          `qfca: feature data has ${features.data.length} values, expected ${C}x${H}x${W}`,
        )
        : null);
    if (bad) return Promise.reject(bad);
    return this.#queue.run(() => this.#map(features, params, bins, false, reference));
  }

  /**
   * QFCA map (H×W) of features already on the device: `buffer` holds `[C, H, W]` f32 (it may be
   * larger), min-max scaled on the device first when `scale` (raw backbone output), against the
   * quantized median reference. One submission; the map is the only readback.
   */
  mapDevice(
    buffer: GPUBuffer,
    dims: { channels: number; height: number; width: number },
    params: FcaParams,
    bins: number,
    scale: boolean,
  ): Promise<ScalarMap> {
    const bad = argumentError(params, bins);
    if (bad) return Promise.reject(bad);
    return this.#queue.run(() => this.#map({ ...dims, buffer }, params, bins, scale));
  }

  async #map(
    f: FeatureMap | { channels: number; height: number; width: number; buffer: GPUBuffer },
    params: FcaParams,
    bins: number,
    scale: boolean,
    given?: Uint8Array,
  ) {
    const { channels: C, height: H, width: W } = f;
    const T = params.patch, area = T * T, n = H * W;
    if (given && given.length !== C * area) {
      throw new Error(`qfca: reference has ${given.length} bins, expected ${C}x${area}`);
    }
    const [ty, tx] = given ? [0, 0] : tileCounts(H, W, T);
    const dev = this.device;
    const own: GPUBuffer[] = [];
    const buf = (label: string, bytes: number, usage?: number) => {
      const b = createBuffer(dev, label, bytes, usage);
      own.push(b);
      return b;
    };
    try {
      let features: GPUBuffer;
      if ("buffer" in f) features = scale ? buf("qfca scaled", C * n * 4) : f.buffer;
      else {
        features = buf("qfca features", f.data.byteLength);
        dev.queue.writeBuffer(features, 0, f.data as Float32Array<ArrayBuffer>);
      }
      const stats = buf("qfca scale stats", 16);
      const reference = buf("qfca reference", C * area * 4);
      if (given) dev.queue.writeBuffer(reference, 0, Uint32Array.from(given));
      const weights = buf("qfca weights", area * 4);
      dev.queue.writeBuffer(
        weights,
        0,
        patchWeights(T, params.sigmaP) as Float32Array<ArrayBuffer>,
      );
      const chunk = Math.max(1, Math.min(C, Math.floor(QFCA_ERRORS_BYTES / (n * bins * 4))));
      const errors = buf("qfca errors", chunk * n * bins * 4);
      const map = buf("qfca map", n * 4);
      const layout = this.k.qfca_gather.structs.get("QfcaDims")!;
      const uniform = (c0: number, count: number) => {
        const u = buf("qfca dims", layout.size, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
        dev.queue.writeBuffer(
          u,
          0,
          writeStruct(layout, {
            channels: C,
            height: H,
            width: W,
            side: T,
            bins,
            tilesX: tx,
            tiles: tx * ty,
            c0,
            chunk: count,
          }),
        );
        return u;
      };
      const enc = dev.createCommandEncoder({ label: "qfca" });
      const pass = enc.beginComputePass({ label: "qfca" });
      const run = <N extends Name>(name: N, res: Parameters<typeof createBindGroup<N>>[2], d: [
        number,
        number,
        number,
      ]) => {
        pass.setPipeline(this.k[name].pipeline);
        pass.setBindGroup(0, createBindGroup(dev, this.k[name], res));
        pass.dispatchWorkgroups(...d);
      };
      if ("buffer" in f && scale) {
        const layout = this.k.minmax_scale.structs.get("Dims")!;
        const u = buf(
          "qfca scale dims",
          layout.size,
          GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        );
        const zero = {
          side: 0,
          tilesX: 0,
          tilesY: 0,
          outHeight: 0,
          outWidth: 0,
          windowsPerGroup: 0,
          blur: 0,
          fixedRange: 0,
          count: 0,
          lo: 0,
          hi: 0,
          alpha: 0,
        };
        dev.queue.writeBuffer(
          u,
          0,
          writeStruct(layout, { ...zero, channels: C, height: H, width: W }),
        );
        run(
          "minmax_scale",
          { dims: u, features: f.buffer, scaled: features, stats } as never,
          dispatchOf("minmax_scale", { channels: C }),
        );
      }
      const all = uniform(0, C);
      if (!given) {
        const tileHist = buf("qfca tile histograms", C * tx * ty * bins * 4);
        run(
          "qfca_tile_hist",
          { dims: all, features, tileHist } as never,
          dispatchOf("qfca_tile_hist", { tiles: tx * ty, channels: C }),
        );
        run(
          "qfca_reference",
          { dims: all, tileHist, reference } as never,
          dispatchOf("qfca_reference", { area, channels: C }),
        );
      }
      for (let c0 = 0; c0 < C; c0 += chunk) {
        const count = Math.min(chunk, C - c0);
        const dims = uniform(c0, count);
        run(
          "qfca_window_errors",
          { dims, features, reference, errors } as never,
          dispatchOf("qfca_window_errors", { height: H, width: W, channels: count }),
        );
        run(
          "qfca_gather",
          { dims, features, errors, weights, map } as never,
          dispatchOf("qfca_gather", { height: H, width: W }),
        );
      }
      pass.end();
      const usage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
      const read = buf("qfca readback", n * 4 + 16, usage);
      enc.copyBufferToBuffer(map, 0, read, 0, n * 4);
      enc.copyBufferToBuffer(stats, 0, read, n * 4, 16);
      dev.queue.submit([enc.finish()]);
      const [bytes] = await readBack([read], [n * 4 + 16]);
      checkFinite(new Uint32Array(bytes, n * 4, 4));
      const out = new Float32Array(bytes, 0, n);
      const k = 1 / (C * bins);
      for (let x = 0; x < n; x++) out[x] *= k;
      const result = { height: H, width: W, data: out };
      return params.sigmaS > 0 ? blurMap(result, params.sigmaS) : result;
    } finally {
      for (const b of own) b.destroy();
    }
  }

  /** Nothing is held between maps; kept for the engine interface. */
  dispose(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers = [];
  }
}

/** The one-line error of bad FCA parameters or bins, or null (public calls reject with it). */
function argumentError(params: FcaParams, bins: number): Error | null {
  try {
    validateParams(params);
    checkBins(bins);
    return null;
  } catch (e) {
    return e as Error;
  }
}
