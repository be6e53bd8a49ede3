/**
 * `fca demo`: generate a procedural texture with a synthetic defect and localise it, so a
 * newcomer sees a result with one command and no data.
 * @module
 */
import { parseArgs } from "node:util";
import { syntheticTexture } from "../demo/synthetic.ts";
import { encodeImagePng, encodePng } from "../io/encode.ts";
import { readImage } from "../io/decode.ts";
import { writeFileAtomic } from "../base/atomic.ts";
import { runDetect } from "./detect.ts";
import { PIPELINE_FLAGS, PIPELINE_HELP } from "./options.ts";

/** Help text of the demo command. */
export const DEMO_HELP = `Usage: fca demo [options]
Generates a procedural texture with a synthetic defect (out/demo/texture.png), localises it and
writes the heatmap, the overlay and a side-by-side panel next to it.

Options:
  --out DIR          where to write (default out/demo)
  --image-size N     side of the generated texture in pixels (default 512)
${PIPELINE_HELP}
  --help             show this help`;

/** Run the demo; resolves to the exit code. */
export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...PIPELINE_FLAGS,
      out: { type: "string" },
      "image-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(DEMO_HELP);
    return 0;
  }
  const out = values.out ?? "out/demo";
  const size = Number(values["image-size"] ?? 512);
  await Deno.mkdir(out, { recursive: true });
  const { image } = syntheticTexture(size, { seed: 7, defect: true });
  const path = `${out}/texture.png`;
  await writeFileAtomic(path, encodeImagePng(image));
  console.error(`demo: generated ${path} (${size}x${size} procedural texture with a defect)`);
  // Pipeline flags pass through; --out and --image-size are the demo's own.
  const rest = argv.filter((a, i) =>
    !/^--(out|image-size)(=|$)/.test(a) && !/^--(out|image-size)$/.test(argv[i - 1] ?? "")
  );
  const code = await runDetect([path, "--out", out, ...rest]);
  if (code !== 0) return code;
  const panel = `${out}/panel.png`;
  await writeFileAtomic(
    panel,
    await sideBySide([path, `${out}/texture.anomaly.png`, `${out}/texture.overlay.png`]),
  );
  console.error(`demo: see ${out}/texture.anomaly.png, ${out}/texture.overlay.png and ${panel}`);
  return 0;
}

/** The PNGs at `paths` (same height) side by side with a 8-pixel white gap, as one RGB PNG. */
async function sideBySide(paths: string[]): Promise<Uint8Array> {
  const images = await Promise.all(paths.map(readImage));
  const gap = 8, h = images[0].height;
  const w = images.reduce((s, im) => s + im.width, 0) + gap * (images.length - 1);
  const rgb = new Uint8Array(3 * w * h).fill(255);
  let x0 = 0;
  for (const im of images) {
    const n = im.width * im.height;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < im.width; x++) {
        for (let c = 0; c < 3; c++) {
          rgb[3 * (y * w + x0 + x) + c] = Math.round(im.data[c * n + y * im.width + x] * 255);
        }
      }
    }
    x0 += im.width + gap;
  }
  return encodePng(w, h, rgb, 3);
}
