import assert from "node:assert/strict";
import { type DefectKind, syntheticTexture } from "../src/demo/synthetic.ts";
import type { RgbImage } from "../src/io/types.ts";

const SIZE = 256;
const KINDS: DefectKind[] = ["hole", "stain", "thread"];

/** Per-block colour mean and standard deviation (6 numbers) over `b` x `b` blocks. */
function blockStats(img: RgbImage, b: number): number[][] {
  const { width: w, height: h, data } = img;
  const plane = w * h;
  const out: number[][] = [];
  for (let by = 0; by + b <= h; by += b) {
    for (let bx = 0; bx + b <= w; bx += b) {
      const f = [0, 0, 0, 0, 0, 0];
      for (let y = by; y < by + b; y++) {
        for (let x = bx; x < bx + b; x++) {
          for (let c = 0; c < 3; c++) {
            const v = data[c * plane + y * w + x];
            f[c] += v;
            f[3 + c] += v * v;
          }
        }
      }
      const n = b * b;
      for (let c = 0; c < 3; c++) {
        f[c] /= n;
        f[3 + c] = Math.sqrt(Math.max(f[3 + c] / n - f[c] * f[c], 0));
      }
      out.push(f);
    }
  }
  return out;
}

/** Fraction of mask pixels (255) in each block, in the same order as {@link blockStats}. */
function blockMask(mask: Uint8Array, size: number, b: number): number[] {
  const out: number[] = [];
  for (let by = 0; by + b <= size; by += b) {
    for (let bx = 0; bx + b <= size; bx += b) {
      let m = 0;
      for (let y = by; y < by + b; y++) {
        for (let x = bx; x < bx + b; x++) {
          m += mask[y * size + x] ? 1 : 0;
        }
      }
      out.push(m / (b * b));
    }
  }
  return out;
}

Deno.test("synthetic: deterministic per seed, seeds differ, values in [0, 1]", () => {
  const a = syntheticTexture(64, { seed: 3 });
  const b = syntheticTexture(64, { seed: 3 });
  const c = syntheticTexture(64, { seed: 4 });
  assert.deepEqual(a.image.data, b.image.data);
  assert.deepEqual(a.mask, b.mask);
  assert.notDeepEqual(a.image.data, c.image.data);
  assert.equal(a.image.data.length, 3 * 64 * 64);
  assert.ok(a.image.data.every((v) => v >= 0 && v <= 1));
  assert.ok(a.mask.every((v) => v === 0 || v === 255));
  assert.throws(() => syntheticTexture(8), /size 8 must be an integer/);
});

Deno.test("synthetic: the defect-free texture is stationary", () => {
  const { image, mask } = syntheticTexture(SIZE, { seed: 5, defect: false });
  assert.ok(mask.every((v) => v === 0));
  // Quadrant statistics agree: same mean colour and contrast everywhere.
  const quads = blockStats(image, SIZE / 2);
  for (const q of quads) {
    for (let k = 0; k < 6; k++) {
      assert.ok(
        Math.abs(q[k] - quads[0][k]) < 0.03,
        `quadrant stat ${k}: ${q[k]} vs ${quads[0][k]}`,
      );
    }
  }
  // Real texture, not a flat fill: clear contrast within each quadrant.
  assert.ok(quads.every((q) => q[3] > 0.08));
});

for (const kind of KINDS) {
  Deno.test(`synthetic ${kind}: mask marks a compact region that stands out from the texture`, () => {
    const seed = 1 + KINDS.indexOf(kind);
    const clean = syntheticTexture(SIZE, { seed, defect: false });
    const { image, mask } = syntheticTexture(SIZE, { seed, kind });
    let count = 0, x0 = SIZE, x1 = -1, y0 = SIZE, y1 = -1;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        if (!mask[y * SIZE + x]) continue;
        count++;
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
    const frac = count / (SIZE * SIZE);
    assert.ok(frac > 0.005 && frac < 0.06, `mask covers ${frac}`);
    // The image changes only near the defect: outside the mask's box grown by half its size the
    // defect image equals the clean one.
    const mx = (x1 - x0) / 2, my = (y1 - y0) / 2, plane = SIZE * SIZE;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        if (x >= x0 - mx && x <= x1 + mx && y >= y0 - my && y <= y1 + my) continue;
        for (let c = 0; c < 3; c++) {
          const i = c * plane + y * SIZE + x;
          assert.equal(image.data[i], clean.image.data[i], `pixel ${x},${y} changed`);
        }
      }
    }
    // Anomalous: blocks mostly inside the defect deviate from the median block far more than any
    // defect-free block does (colour mean and contrast).
    const b = 16;
    const stats = blockStats(image, b);
    const inside = blockMask(mask, SIZE, b);
    const median = stats[0].map((_, k) =>
      stats.map((s) => s[k]).sort((p, q) => p - q)[stats.length >> 1]
    );
    const dist = stats.map((s) => Math.hypot(...s.map((v, k) => v - median[k])));
    const normal = Math.max(...dist.filter((_, i) => inside[i] === 0));
    const defect = Math.max(...dist.filter((_, i) => inside[i] >= 0.5));
    assert.ok(defect > 2 * normal, `defect block deviation ${defect} vs normal ${normal}`);
  });
}
