/**
 * A feature map kept in a temporary file instead of memory, so that tiled processing holds only
 * one tile at a time. The file is pixel-interleaved (HWC: row-major pixels of C float32), so a
 * rectangle of any width comes back with one read per row (one read in all when it spans the
 * full width), and a block goes in with one write per row.
 * @module
 */
import type { FeatureMap } from "../../fca/types.ts";

/** A C×H×W float32 feature map in a temporary file (HWC layout), read and written in blocks. */
export class FeatureStore {
  #file: Deno.FsFile | null;
  #path: string;

  private constructor(
    /** Channels per pixel. */
    readonly channels: number,
    /** Rows of the whole map. */
    readonly height: number,
    /** Columns of the whole map. */
    readonly width: number,
    file: Deno.FsFile,
    path: string,
  ) {
    this.#file = file;
    this.#path = path;
  }

  /** Create an empty store in a new temporary file (in `dir`, else the system's temp folder). */
  static async create(
    channels: number,
    height: number,
    width: number,
    dir?: string,
  ): Promise<FeatureStore> {
    const path = await Deno.makeTempFile({ dir, prefix: "fca-features-", suffix: ".f32" });
    try {
      const file = await Deno.open(path, { read: true, write: true });
      return new FeatureStore(channels, height, width, file, path);
    } catch (err) {
      await Deno.remove(path).catch(() => {});
      throw new Error(`tiling: cannot open temporary file ${path}: ${(err as Error).message}`);
    }
  }

  /** Write a C×h×w block (CHW, as a backbone returns it) at rows `y0…`, columns `x0…`. */
  writeBlock(block: FeatureMap, y0: number, x0: number): void {
    const { channels: C, height: h, width: w, data } = block;
    if (C !== this.channels || y0 < 0 || x0 < 0 || y0 + h > this.height || x0 + w > this.width) {
      throw new Error(
        `tiling: block ${C}x${h}x${w} at (${y0},${x0}) does not fit the ${this.channels}x${this.height}x${this.width} store`,
      );
    }
    const hwc = new Float32Array(h * w * C), n = h * w;
    for (let c = 0; c < C; c++) {
      const plane = c * n;
      for (let i = 0; i < n; i++) hwc[i * C + c] = data[plane + i];
    }
    const rowValues = w * C;
    if (w === this.width) {
      this.#write(hwc, y0 * this.width * C);
      return;
    }
    for (let y = 0; y < h; y++) {
      this.#write(
        hwc.subarray(y * rowValues, (y + 1) * rowValues),
        ((y0 + y) * this.width + x0) * C,
      );
    }
  }

  /** Rows `[y0, y1)` × columns `[x0, x1)` in HWC order (into `out` when given). */
  readHwc(y0: number, y1: number, x0: number, x1: number, out?: Float32Array): Float32Array {
    this.#checkRect(y0, y1, x0, x1);
    const C = this.channels, w = x1 - x0, rowValues = w * C;
    const hwc = out ?? new Float32Array((y1 - y0) * rowValues);
    if (w === this.width) {
      this.#read(hwc.subarray(0, (y1 - y0) * rowValues), y0 * this.width * C);
      return hwc;
    }
    for (let y = y0; y < y1; y++) {
      this.#read(
        hwc.subarray((y - y0) * rowValues, (y - y0 + 1) * rowValues),
        (y * this.width + x0) * C,
      );
    }
    return hwc;
  }

  /** Rows `[y0, y1)` × columns `[x0, x1)` as a CHW feature map. */
  readRect(y0: number, y1: number, x0: number, x1: number): FeatureMap {
    const hwc = this.readHwc(y0, y1, x0, x1);
    const C = this.channels, h = y1 - y0, w = x1 - x0, n = h * w;
    const data = new Float32Array(C * n);
    for (let i = 0; i < n; i++) {
      const o = i * C;
      for (let c = 0; c < C; c++) data[c * n + i] = hwc[o + c];
    }
    return { channels: C, height: h, width: w, data };
  }

  /** Close and delete the file; safe to call twice. */
  close(): void {
    if (!this.#file) return;
    this.#file.close();
    this.#file = null;
    try {
      Deno.removeSync(this.#path);
    } catch { /* already gone */ }
  }

  #checkRect(y0: number, y1: number, x0: number, x1: number): void {
    if (!(0 <= y0 && y0 < y1 && y1 <= this.height && 0 <= x0 && x0 < x1 && x1 <= this.width)) {
      throw new Error(
        `tiling: rows ${y0}..${y1} x columns ${x0}..${x1} outside the ${this.height}x${this.width} store`,
      );
    }
  }

  #open(): Deno.FsFile {
    if (!this.#file) throw new Error(`tiling: feature store ${this.#path} is closed`);
    return this.#file;
  }

  #write(values: Float32Array, valueOffset: number): void {
    const file = this.#open();
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    file.seekSync(valueOffset * 4, Deno.SeekMode.Start);
    for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
  }

  #read(values: Float32Array, valueOffset: number): void {
    const file = this.#open();
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    file.seekSync(valueOffset * 4, Deno.SeekMode.Start);
    for (let done = 0; done < bytes.length;) {
      const n = file.readSync(bytes.subarray(done));
      if (n === null || n === 0) {
        throw new Error(`tiling: temporary file ${this.#path} ended early (disk full?)`);
      }
      done += n;
    }
  }
}
