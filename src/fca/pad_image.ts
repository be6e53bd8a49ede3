/**
 * Reflect padding of the input image before the backbone (the default preset's `--pad`). A CNN
 * zero-pads at the image border, so its outermost feature cells describe a texture that ends in
 * black; FCA then sees "defects" along every border. Padding the image with its own mirrored
 * texture by `pad` pixels (a multiple of the stride) and cropping `pad / stride` cells off each
 * side of the features gives a feature map of the usual size whose border cells see texture.
 *
 * @example
 * ```ts
 * import { reflectPadImage } from "./pad_image.ts";
 * const img = { width: 3, height: 1, data: new Float32Array([1, 2, 3, 1, 2, 3, 1, 2, 3]) };
 * const p = reflectPadImage(img, 2);
 * console.assert(p.width === 7 && p.height === 5);
 * console.assert(Array.from(p.data.subarray(0, 7)).join() === "3,2,1,2,3,2,1");
 * ```
 * @module
 */
import type { RgbImage } from "../io/types.ts";
import { reflectIndex } from "./params.ts";

/** `image` reflect-padded (edge not repeated) by `pad` pixels on every side. */
export function reflectPadImage(image: RgbImage, pad: number): RgbImage {
  if (pad === 0) return image;
  const { width: W, height: H, data } = image;
  const w = W + 2 * pad, h = H + 2 * pad;
  const out = new Float32Array(3 * w * h);
  const cols = Int32Array.from({ length: w }, (_, x) => reflectIndex(x - pad, W));
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const src = c * W * H + reflectIndex(y - pad, H) * W, dst = c * w * h + y * w;
      for (let x = 0; x < w; x++) out[dst + x] = data[src + cols[x]];
    }
  }
  return { width: w, height: h, data: out };
}
