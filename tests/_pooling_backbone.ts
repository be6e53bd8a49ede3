/** A model-free stand-in backbone for tiling tests. */
import type { HostFeatureExtractor } from "../src/features/backbone.ts";
import type { FeatureMap } from "../src/fca/types.ts";
import type { RgbImage } from "../src/io/types.ts";

/**
 * A stand-in backbone without a model: 4 channels of stride-8 block statistics (mean, max, min
 * and a mean of squares of the three colours), so every feature depends only on its own block and
 * tiles need no halo. `calls` counts extractions.
 */
export function poolingBackbone(): HostFeatureExtractor & { calls: number } {
  return {
    runtime: "test pooling",
    calls: 0,
    extract(image: RgbImage): Promise<FeatureMap> {
      this.calls++;
      const h = Math.ceil(image.height / 8), w = Math.ceil(image.width / 8), n = h * w;
      const data = new Float32Array(4 * n);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let sum = 0, sq = 0, mx = -Infinity, mn = Infinity, count = 0;
          for (let yy = 8 * y; yy < Math.min(image.height, 8 * y + 8); yy++) {
            for (let xx = 8 * x; xx < Math.min(image.width, 8 * x + 8); xx++) {
              for (let c = 0; c < 3; c++) {
                const v = image.data[(c * image.height + yy) * image.width + xx];
                sum += v;
                sq += v * v;
                mx = Math.max(mx, v);
                mn = Math.min(mn, v);
                count++;
              }
            }
          }
          const i = y * w + x;
          data[i] = sum / count;
          data[n + i] = mx;
          data[2 * n + i] = Math.max(0, mn - 0.3); // ReLU-like zeros
          data[3 * n + i] = sq / count;
        }
      }
      return Promise.resolve({ channels: 4, height: h, width: w, data });
    },
    dispose: () => Promise.resolve(),
  };
}
