/** The README's option table documents every option of the design table (and no other). */
import assert from "node:assert/strict";
import { DECISION_OPTIONS, PIPELINE_OPTIONS } from "../src/design.ts";

Deno.test("README: every pipeline and decision option of src/design.ts has a row in the options table", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  const rows = readme.split("\n").filter((l) => l.startsWith("| `--"));
  const documented = new Set(
    rows.flatMap((l) => [...l.matchAll(/`--([a-z-]+)/g)].map((m) => m[1])),
  );
  const missing = [...PIPELINE_OPTIONS, ...DECISION_OPTIONS].map((o) => o.flag)
    .filter((f) => !documented.has(f));
  assert.deepEqual(missing, []);
});
