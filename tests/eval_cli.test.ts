/**
 * `fca eval` command tests on a tiny synthetic dataset (hand-crafted colour features, so no model
 * is needed): saved maps are reused only with the settings that produced them.
 */
import assert from "node:assert/strict";
import { runEval, savedMapKey } from "../src/cli/eval.ts";
import { UsageError } from "../src/cli/options.ts";
import { encodePng } from "../src/io/encode.ts";

const N = 24;

/** Gray N×N PNG with value `base` and a `v` square of side 5 at (x, y). */
function png(base: number, spot?: { x: number; y: number; v: number }): Uint8Array {
  const px = new Uint8Array(N * N).fill(base);
  if (spot) {
    for (let y = spot.y; y < spot.y + 5; y++) px.fill(spot.v, y * N + spot.x, y * N + spot.x + 5);
  }
  return encodePng(N, N, px, 1);
}

async function makeDataset(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "fca-eval-cli-" });
  const cat = `${root}/tex`;
  for (const d of ["test/good", "test/cut", "ground_truth/cut"]) {
    await Deno.mkdir(`${cat}/${d}`, { recursive: true });
  }
  await Deno.writeFile(`${cat}/test/good/000.png`, png(90));
  await Deno.writeFile(`${cat}/test/cut/000.png`, png(90, { x: 9, y: 11, v: 220 }));
  await Deno.writeFile(`${cat}/ground_truth/cut/000_mask.png`, png(0, { x: 9, y: 11, v: 255 }));
  return root;
}

/** Lines the last {@link quiet} run printed on stdout. */
let printed: string[] = [];

/** Run the command with console output silenced. */
async function quiet(argv: string[]): Promise<number> {
  const log = console.log;
  printed = [];
  console.log = (...a: unknown[]) => printed.push(a.join(" "));
  try {
    return await runEval(argv);
  } finally {
    console.log = log;
  }
}

Deno.test("eval CLI: saved maps are reused with the same settings and refused with other stats", async () => {
  const root = await makeDataset();
  const out = `${root}/out`;
  const base = [root, "--features", "colors", "--out", out, "--save-maps"];
  try {
    assert.equal(await quiet(base), 0);
    const first = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
    assert.equal(first.categories.tex.reused_maps, 0);
    assert.equal(first.settings.features, "colors");
    assert.equal(first.settings.stats, "fca");
    // The summary counts what was written: metrics, 2 plots, 2 maps (not "3 files").
    assert.match(
      printed.at(-1)!,
      new RegExp(
        `wrote metrics\\.json, 2 plots \\(${out}/plots\\) and 2 maps \\(${out}/maps\\) to ${out}$`,
      ),
    );

    assert.equal(await quiet(base), 0);
    const again = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
    assert.equal(again.categories.tex.reused_maps, 2);
    assert.match(printed.at(-1)!, /and 0 maps .*; reused 2 saved maps$/);
    assert.equal(again.mean.au_pro, first.mean.au_pro);

    // Other statistics give other maps: reusing the saved FCA maps would report wrong numbers.
    await assert.rejects(
      () => quiet([...base, "--stats", "sww"]),
      (e: unknown) => e instanceof UsageError && /other settings/.test((e as Error).message),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("eval CLI: the saved-map key names the model file actually used, by content", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fca-eval-key-" });
  const saved = Deno.env.get("FCA_MODEL");
  try {
    await Deno.writeFile(`${dir}/a.onnx`, new Uint8Array([1, 2, 3]));
    await Deno.writeFile(`${dir}/b.onnx`, new Uint8Array([1, 2, 4]));
    const params = { patch: 9, sigmaP: 3, sigmaS: 1 };
    Deno.env.set("FCA_MODEL", `${dir}/a.onnx`);
    const a = await savedMapKey({ params });
    Deno.env.set("FCA_MODEL", `${dir}/b.onnx`);
    const b = await savedMapKey({ params });
    // sha256 of the bytes 01 02 03 (independently known).
    assert.equal(
      a.model_sha256,
      "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81",
    );
    assert.notEqual(a.model_sha256, b.model_sha256);
    assert.equal(
      (await savedMapKey({ params, model: `${dir}/a.onnx` })).model_sha256,
      a.model_sha256,
    );
    assert.equal((await savedMapKey({ params, features: "colors" })).model_sha256, null);
  } finally {
    if (saved === undefined) Deno.env.delete("FCA_MODEL");
    else Deno.env.set("FCA_MODEL", saved);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval CLI: operating points in metrics.json and one record per image in images.jsonl", async () => {
  const root = await makeDataset();
  const out = `${root}/out`;
  try {
    const args = [root, "--features", "colors", "--patch", "5", "--out", out, "--min-area", "1"];
    assert.equal(await quiet([...args, "--threshold", "1e9"]), 0);
    const m = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
    const zero = m.operating_points["zero-shot"], fixed = m.operating_points.explicit;
    assert.equal(zero.images, 2);
    assert.ok(zero.maskF1 > 0, "the zero-shot threshold finds the square");
    assert.equal(zero.regionRecall, 1);
    // Nothing is above an unreachable threshold: no true positive, every verdict "ok".
    assert.equal(fixed.threshold, 1e9);
    assert.equal(fixed.counts.tp, 0);
    assert.deepEqual([fixed.counts.imageFp, fixed.counts.imageTp], [0, 0]);
    assert.equal(fixed.imageRecall, 0);
    const lines = (await Deno.readTextFile(`${out}/images.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const l of lines) {
      assert.deepEqual(l.threshold, { value: 1e9, source: "explicit" });
      assert.equal(l.verdict, "ok");
    }
    assert.ok(lines.some((l) => /cut/.test(l.path) && l.mask_f1 === 0));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
