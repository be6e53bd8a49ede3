import assert from "node:assert/strict";
import { loadKernel } from "../src/gpu/kernel_source.ts";

Deno.test("kernels load with their //#include lines expanded, each helper once", async () => {
  const names = [...Deno.readDirSync(new URL("../kernels/", import.meta.url))]
    .filter((e) => e.isFile && e.name.endsWith(".wgsl"))
    .map((e) => e.name.slice(0, -5));
  assert.ok(names.includes("rank_matching") && names.includes("stats_hist_emd"));
  for (const name of names) {
    const code = await loadKernel(name);
    assert.doesNotMatch(code, /^\/\/#include/m, name);
    assert.ok((code.match(/fn reflectIndex\(/g) ?? []).length <= 1, name);
    assert.match(code, /@compute/, name);
  }
  const emd = await loadKernel("stats_hist_emd");
  for (const fn of ["fn reflectIndex(", "fn localHistogram(", "struct StatsDims"]) {
    assert.equal(emd.split(fn).length, 2, `${fn} once in stats_hist_emd`);
  }
});
