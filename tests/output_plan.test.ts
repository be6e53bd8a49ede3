/**
 * Output names never collide: the stem plan for a batch, and --recursive folder walking.
 */
import assert from "node:assert/strict";
import { outputsForStem, planOutputStems } from "../src/cli/output_plan.ts";
import { expandInputs, isOwnOutput } from "../src/cli/inputs.ts";

function assertDistinct(stems: string[]) {
  const lower = stems.map((s) => s.toLowerCase());
  assert.equal(new Set(lower).size, stems.length, `clash in ${JSON.stringify(stems)}`);
}

Deno.test("no clash: historic names unchanged", () => {
  assert.deepEqual(planOutputStems(["a.png", "dir/b.jpg"]), ["./a", "dir/b"]);
  assert.deepEqual(planOutputStems(["a.png", "dir/b.jpg"], "X"), ["X/a", "X/b"]);
  assert.deepEqual(planOutputStems(["/abs/c.jpeg"], "out/"), ["out/c"]);
  assert.deepEqual(planOutputStems(["noext"], "X"), ["X/noext"]);
  assert.deepEqual(outputsForStem("X/a"), {
    heatmap: "X/a.anomaly.png",
    overlay: "X/a.overlay.png",
    npy: "X/a.anomaly.npy",
    mask: "X/a.mask.png",
  });
});

Deno.test("same stem, different extensions: the extension stays in the stem", () => {
  const beside = planOutputStems(["a.png", "a.jpg"]);
  assert.deepEqual(beside, ["./a.png", "./a.jpg"]);
  const out = planOutputStems(["a.png", "a.jpg", "b.png"], "X");
  assert.deepEqual(out, ["X/a.png", "X/a.jpg", "X/b"]);
  // Case-insensitive file systems: A.PNG and a.jpg clash too.
  assertDistinct(planOutputStems(["A.PNG", "a.jpg"], "X"));
});

Deno.test("same name in different folders: folders mirrored under --out", () => {
  assert.deepEqual(planOutputStems(["f/a/000.png", "f/b/000.png"], "X"), ["X/a/000", "X/b/000"]);
  // Only the clashing inputs move; the common folder is that of all inputs.
  assert.deepEqual(
    planOutputStems(["f/a/000.png", "f/b/000.png", "f/a/001.png"], "X"),
    ["X/a/000", "X/b/000", "X/001"],
  );
  // Nested and uneven depths.
  assert.deepEqual(planOutputStems(["d/000.png", "d/x/y/000.png"], "X"), ["X/000", "X/x/y/000"]);
  // Without --out the outputs sit beside their inputs: no clash to begin with.
  assert.deepEqual(planOutputStems(["f/a/000.png", "f/b/000.png"]), ["f/a/000", "f/b/000"]);
  // Both: same folder mirrored, then extension.
  assert.deepEqual(
    planOutputStems(["f/a/0.png", "f/a/0.jpg", "f/b/0.png"], "X"),
    ["X/a/0.png", "X/a/0.jpg", "X/b/0"],
  );
});

Deno.test("never writes outside --out, never clashes, even for odd inputs", () => {
  const up = planOutputStems(["../x/a.png", "y/a.png"], "X");
  assert.deepEqual(up, ["X/__/x/a", "X/y/a"]);
  for (const s of up) assert.ok(s.startsWith("X/") && !s.split("/").includes(".."));
  const abs = planOutputStems(["/data/a.png", "rel/a.png"], "X");
  assertDistinct(abs);
  for (const s of abs) assert.ok(s.startsWith("X/"));
  // The same file twice (even spelled differently): numbered.
  assert.deepEqual(planOutputStems(["a.png", "./a.png", "a.png"], "X"), [
    "X/a.png",
    "X/a.png~2",
    "X/a.png~3",
  ]);
  assert.deepEqual(planOutputStems(["d/a.png", "d//a.png"]), ["d/a.png", "d/a.png~2"]);
  // A kept-extension stem that equals another input's stem.
  assertDistinct(planOutputStems(["a.png", "a.jpg", "a.png.jpg"], "X"));
  // Many random batches: always distinct.
  const names = ["a.png", "a.jpg", "A.png", "b.png", "x/a.png", "y/a.png", "x/y/a.png", "./a.png"];
  for (let mask = 1; mask < 1 << names.length; mask++) {
    const batch = names.filter((_, i) => mask & (1 << i));
    assertDistinct(planOutputStems(batch, "X"));
    assertDistinct(planOutputStems(batch));
  }
});

Deno.test("--recursive walks subfolders in sorted order, skipping outputs and dot-folders", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fca-inputs-" });
  try {
    for (const p of ["b", "a/c", ".hidden", "empty"]) {
      await Deno.mkdir(`${dir}/${p}`, { recursive: true });
    }
    for (
      const f of [
        "z.png",
        "b/2.jpg",
        "b/1.png",
        "a/c/0.png",
        ".hidden/h.png",
        "x.anomaly.png",
        "b/1.mask.png",
        "notes.txt",
      ]
    ) {
      await Deno.writeFile(`${dir}/${f}`, new Uint8Array());
    }
    const flat = await expandInputs([dir]);
    assert.deepEqual(flat.map((i) => i.path), [`${dir}/z.png`]);
    const deep = await expandInputs([dir], { recursive: true });
    assert.deepEqual(deep.map((i) => i.path.slice(dir.length + 1)), [
      "z.png",
      "a/c/0.png",
      "b/1.png",
      "b/2.jpg",
    ]);
    const empty = await expandInputs([`${dir}/empty`], { recursive: true });
    assert.ok("error" in empty[0]);
    assert.ok(
      isOwnOutput("x.mask.png") && isOwnOutput("x.overlay.png") && !isOwnOutput("x_mask.png"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
