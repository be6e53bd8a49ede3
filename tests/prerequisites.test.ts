/**
 * What the rest of the suite needs from the machine: the shared data (golden vectors, backbone
 * models) and a WebGPU adapter. Without them the tests that need them are ignored, and these
 * two say so loudly; with `FCA_REQUIRE_SHARED=1` / `FCA_REQUIRE_GPU=1` (as `.ci/run` sets) they
 * fail instead, and so do the tests that would have been ignored (see tests/_shared.ts).
 */
import assert from "node:assert/strict";
import {
  exists,
  GOLDEN_DIR,
  MODEL_PATH,
  REQUIRE_GPU,
  REQUIRE_SHARED,
  SHARED_DIR,
  skipWithoutGpu,
  skipWithoutShared,
} from "./_shared.ts";

/** Everything some test reads from the shared data. */
const SHARED_FILES = [
  `${GOLDEN_DIR}/README.md`,
  `${GOLDEN_DIR}/metrics/expected.json`,
  `${GOLDEN_DIR}/pipeline_crackforest/fca_upsampled_stable.npy`,
  MODEL_PATH,
  `${SHARED_DIR}/models/vgg19norm-conv1_2.onnx`,
  `${SHARED_DIR}/datasets/neu_seg_dev/neu_steel/test/scratches/001.png`,
];
const missing = SHARED_FILES.filter((p) => !exists(p));
const adapter = await navigator.gpu?.requestAdapter().catch(() => null) ?? null;

if (missing.length > 0 && !REQUIRE_SHARED) {
  console.warn(
    `WARNING: shared data missing (${missing.join(", ")}): the golden, model and end-to-end ` +
      `tests are IGNORED. Set FCA_SHARED (or FCA_GOLDEN, FCA_MODEL); FCA_REQUIRE_SHARED=1 fails ` +
      `instead of skipping.`,
  );
}
if (adapter === null && !REQUIRE_GPU) {
  console.warn(
    "WARNING: no WebGPU adapter: the GPU tests are IGNORED. FCA_REQUIRE_GPU=1 fails instead.",
  );
}

Deno.test({
  name: "prerequisites: the shared data (golden vectors, models) is present",
  ignore: skipWithoutShared(missing.length === 0),
  fn() {
    assert.deepEqual(missing, [], `FCA_REQUIRE_SHARED is set but shared data is missing`);
  },
});

Deno.test({
  name: "prerequisites: a WebGPU adapter is present",
  ignore: skipWithoutGpu(adapter !== null),
  fn() {
    assert.ok(adapter !== null, "FCA_REQUIRE_GPU is set but there is no WebGPU adapter");
  },
});

Deno.test("prerequisites: the require switches turn the ignore conditions off", async () => {
  // Each switch, in a fresh process, with every shared path pointing nowhere.
  const NOWHERE = "/nonexistent/fca-shared";
  const code = `
    const s = await import(${JSON.stringify(new URL("./_shared.ts", import.meta.url).href)});
    console.log(JSON.stringify([s.HAVE_GOLDEN, s.HAVE_MODEL, s.skipWithoutShared(s.HAVE_GOLDEN),
      s.skipWithoutShared(true), s.skipWithoutGpu(false), s.skipWithoutGpu(true)]));`;
  const run = async (env: Record<string, string>) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      env: {
        FCA_SHARED: NOWHERE,
        FCA_GOLDEN: `${NOWHERE}/golden`,
        FCA_MODEL: `${NOWHERE}/model.onnx`,
        FCA_REQUIRE_SHARED: "",
        FCA_REQUIRE_GPU: "",
        ...env,
      },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(out.code, 0);
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  assert.deepEqual(await run({}), [false, false, true, false, true, false]);
  assert.deepEqual(await run({ FCA_REQUIRE_SHARED: "1" }), [
    false,
    false,
    false,
    false,
    true,
    false,
  ]);
  assert.deepEqual(await run({ FCA_REQUIRE_GPU: "1" }), [false, false, true, false, false, false]);
  assert.deepEqual(await run({ FCA_REQUIRE_SHARED: "0", FCA_REQUIRE_GPU: "0" }), [
    false,
    false,
    true,
    false,
    true,
    false,
  ]);
});
