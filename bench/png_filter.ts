/**
 * PNG row filter and zlib level, measured on real outputs (heatmaps and overlays): time and size
 * of each filter (None, Sub, Up, Average, Paeth, per-row minimum-sum) at zlib levels 1, 3 and 6.
 *
 *   deno run -A bench/png_filter.ts a.anomaly.png b.overlay.png ...
 * @module
 */
import { deflateSync } from "node:zlib";
import { decodeImage } from "../src/io/decode.ts";
import { filterRows, type PngFilter } from "../src/io/encode.ts";

const FILTERS: PngFilter[] = ["none", "sub", "up", "average", "paeth", "adaptive"];
const LEVELS = [1, 3, 6] as const;

const rows: string[] = [
  "| image | filter | level | ms (median of 5) | bytes |",
  "|---|---|---:|---:|---:|",
];
for (const path of Deno.args) {
  const img = decodeImage(await Deno.readFile(path), path);
  const n = img.width * img.height, rgb = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round(img.data[c * n + i] * 255);
  }
  for (const f of FILTERS) {
    for (const level of LEVELS) {
      const times: number[] = [];
      let size = 0;
      for (let k = 0; k < 5; k++) {
        const t = performance.now();
        size = deflateSync(filterRows(rgb, img.width, img.height, 3, f), { level }).length;
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      rows.push(
        `| ${path.split("/").at(-1)} | ${f} | ${level} | ${times[2].toFixed(1)} | ${size} |`,
      );
    }
  }
}
console.log(rows.join("\n"));
