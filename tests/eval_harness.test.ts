/**
 * Harness tests on a tiny synthetic dataset in a temporary folder, with a stub detector whose
 * map is the image's red channel (so the expected metrics follow from the pixels we write).
 */
import assert from "node:assert/strict";
import { type DetectorLike, evaluateDataset } from "../src/eval/harness.ts";
import { markdownTable, writeReport } from "../src/eval/report.ts";
import { formatDuration, ProgressBar } from "../src/base/progress.ts";
import { encodePng } from "../src/io/encode.ts";

const N = 16;

/** Gray 16×16 PNG with value `base` and `spot` inside the square [y0,y0+s)×[x0,x0+s). */
function png(base: number, spot?: { x: number; y: number; s: number; v: number }): Uint8Array {
  const px = new Uint8Array(N * N).fill(base);
  if (spot) {
    for (let y = spot.y; y < spot.y + spot.s; y++) {
      for (let x = spot.x; x < spot.x + spot.s; x++) px[y * N + x] = spot.v;
    }
  }
  return encodePng(N, N, px, 1);
}

async function makeDataset(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "fca-eval-test-" });
  const cat = `${root}/tex`;
  for (const d of ["test/good", "test/cut", "ground_truth/cut"]) {
    await Deno.mkdir(`${cat}/${d}`, { recursive: true });
  }
  // Good images: flat 40 and 60. Defects: a bright 4×4 square (200) exactly where the mask is.
  await Deno.writeFile(`${cat}/test/good/000.png`, png(40));
  await Deno.writeFile(`${cat}/test/good/001.png`, png(60));
  await Deno.writeFile(`${cat}/test/cut/000.png`, png(50, { x: 2, y: 3, s: 4, v: 200 }));
  await Deno.writeFile(
    `${cat}/ground_truth/cut/000_mask.png`,
    png(0, { x: 2, y: 3, s: 4, v: 255 }),
  );
  await Deno.writeFile(`${cat}/test/cut/001.png`, png(50, { x: 9, y: 9, s: 4, v: 180 }));
  await Deno.writeFile(
    `${cat}/ground_truth/cut/001_mask.png`,
    png(0, { x: 9, y: 9, s: 4, v: 255 }),
  );
  return root;
}

/** Stub detector: map = red channel; counts calls. */
function stub(): DetectorLike & { calls: number } {
  const d = {
    calls: 0,
    detect(image: { width: number; height: number; data: Float32Array }) {
      d.calls++;
      const n = image.width * image.height;
      return Promise.resolve({
        map: { width: image.width, height: image.height, data: image.data.slice(0, n) },
      });
    },
  };
  return d;
}

Deno.test("harness: perfect detector scores 1 everywhere; outputs, plots and resume", async () => {
  const root = await makeDataset();
  const out = `${root}/out`;
  try {
    const det = stub();
    const lines: string[] = [];
    const progress = new ProgressBar(4, { write: (t) => lines.push(t), tty: false });
    const r = await evaluateDataset(root, det, { outDir: out, saveMaps: true, progress });
    assert.equal(det.calls, 4);
    assert.equal(lines.length, 4);
    assert.match(lines[3], /^\[#+\] 4\/4 .* tex\/test\/good\/001\.png\n$/);
    const c = r.categories[0];
    assert.equal(c.category, "tex");
    assert.deepEqual([c.images, c.good, c.defective, c.regions], [4, 2, 2, 2]);
    assert.equal(c.defectPixels, 32);
    assert.equal(c.okPixels, 4 * 256 - 32);
    // Defects (180, 200) are above every normal pixel (40..60): perfect separation.
    for (const v of [c.auPro, c.pixelAuroc, c.maxF1, c.imageAuroc]) {
      assert.ok(v !== null && Math.abs(v - 1) < 1e-7, `${v}`);
    }
    assert.equal(c.maxF1Threshold, Math.fround(180 / 255));
    const files = await writeReport(out, r, { dataset: root, settings: { crop: 0 } });
    assert.equal(files.length, 3);
    const json = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
    assert.equal(json.categories.tex.images, 4);
    assert.equal(json.mean.au_pro, c.auPro);
    const plot = await Deno.readTextFile(`${out}/plots/tex_pro.svg`);
    assert.match(plot, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="640" height="480"/);
    assert.match(plot, />AU-PRO@0\.3 = 100\.00%<\/text>/);
    assert.match(plot, />false positive rate<\/text>/);
    assert.match(plot, />0\.15<\/text>/); // x ticks up to the integration limit
    assert.match(plot, /<polyline points="/);
    assert.ok(plot.trimEnd().endsWith("</svg>"));
    const roc = await Deno.readTextFile(`${out}/plots/tex_roc.svg`);
    assert.match(roc, />pixel AUROC = 100\.00%<\/text>/);
    assert.match(roc, />chance<\/text>/);
    assert.match(
      markdownTable(r),
      /\| tex \| 4 \(2\) \| 100\.00 \| 100\.00 \| 100\.00 \| 100\.00 \|/,
    );

    // Resume: saved maps are reused, the detector is not even created.
    const again = await evaluateDataset(root, () => Promise.reject(new Error("must not run")), {
      outDir: out,
      saveMaps: true,
    });
    assert.equal(again.categories[0].reusedMaps, 4);
    assert.equal(again.categories[0].auPro, c.auPro);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("harness: crop, list, spill to disk and a category without good images", async () => {
  const root = await makeDataset();
  try {
    // Crop 4 px per side: defect 000 keeps rows 4..6 × cols 4..5 (6 px) of its square, 001 keeps
    // rows/cols 9..11 (9 px). A tiny memory budget forces every sample through the spill folder.
    const r = await evaluateDataset(root, stub(), {
      crop: 4,
      memoryBudget: 1,
      outDir: `${root}/o`,
    });
    const c = r.categories[0];
    assert.equal(c.defectPixels, 15);
    assert.equal(c.okPixels, 4 * 64 - 15);
    assert.ok(Math.abs(c.pixelAuroc! - 1) < 1e-12);
    // Only the spill folder was used and is gone again.
    assert.deepEqual([...Deno.readDirSync(`${root}/o`)].map((e) => e.name), []);

    // A list with only the defect images: no good image → image AUROC n/a.
    const list = { dataset: "x/tex", images: ["test/cut/000.png", "test/cut/001.png"] };
    const r2 = await evaluateDataset(root, stub(), { list });
    assert.equal(r2.categories[0].images, 2);
    assert.equal(r2.categories[0].imageAuroc, null);
    assert.match(markdownTable(r2), /\| n\/a \|$/m);
    await assert.rejects(
      () => evaluateDataset(root, stub(), { list: { images: ["test/cut/999.png"] } }),
      /test\/cut\/999\.png matches no test image/,
    );
    await assert.rejects(
      () => evaluateDataset(root, stub(), { categories: ["nope"] }),
      /no category nope/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("harness: a detector's own image score replaces the map's maximum (kept when spilled and saved)", async () => {
  const root = await makeDataset();
  try {
    // Same maps as the stub (pixel metrics perfect), but an image score that ranks the good
    // images (no bright spot) above the defective ones, so image AUROC is 0.
    const inverted: DetectorLike = {
      async detect(image) {
        const { map } = await stub().detect(image);
        const good = Math.max(...map.data) < 100 / 255;
        return { map, imageScore: good ? 2 : 1 };
      },
    };
    const out = `${root}/o`;
    for (const memoryBudget of [undefined, 1]) {
      const r = await evaluateDataset(root, inverted, { memoryBudget });
      assert.equal(r.categories[0].imageAuroc, 0);
      assert.ok(Math.abs(r.categories[0].pixelAuroc! - 1) < 1e-12);
    }
    const first = await evaluateDataset(root, inverted, { outDir: out, saveMaps: true });
    assert.equal(first.categories[0].imageAuroc, 0);
    const again = await evaluateDataset(root, () => Promise.reject(new Error("must not run")), {
      outDir: out,
      saveMaps: true,
    });
    assert.equal(again.categories[0].reusedMaps, 4);
    assert.equal(again.categories[0].imageAuroc, 0);
    // Without the score the same maps give the maximum's perfect image AUROC.
    assert.equal((await evaluateDataset(root, stub())).categories[0].imageAuroc, 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("progress: rate, ETA and duration formatting", () => {
  let t = 0;
  const out: string[] = [];
  const p = new ProgressBar(10, { write: (s) => out.push(s), tty: true, now: () => t, width: 10 });
  t = 2000;
  p.tick("a");
  t = 4000;
  p.tick("b");
  // 2 done in 4 s → 0.50 img/s, 8 left → 16 s.
  assert.equal(p.line("b"), "[##........] 2/10 0.50 img/s ETA 16s b");
  assert.ok(out[1].startsWith("\r\x1b[2K[##"));
  assert.equal(formatDuration(75), "1m15s");
  assert.equal(formatDuration(3723), "1h02m03s");
});
