/**
 * The browser app's options (web/options.ts): the CLI's defaults (default preset, zero-shot
 * threshold, min-area 16, border 0), the design table's checks as one-line errors naming the
 * library option, and the page's address read with the CLI's flag names.
 */
import assert from "node:assert/strict";
import { parseDecisionFlags, parsePipelineFlags } from "../src/design.ts";
import { optionsFromQuery, resolveOptions } from "../web/options.ts";

Deno.test("web options: no options are the command line's defaults", () => {
  const r = resolveOptions();
  assert.deepEqual(r.settings, parsePipelineFlags({}));
  assert.equal(r.settings.preset, "default");
  assert.equal(r.settings.size, "auto");
  const cli = parseDecisionFlags({});
  assert.deepEqual(r.decision, { minArea: cli.minArea, border: cli.border });
  assert.equal(r.decision.threshold, undefined, "zero-shot");
  assert.equal(r.key, resolveOptions({}).key);
});

Deno.test("web options: library names, nested params or flat; the key follows the settings", () => {
  const a = resolveOptions({ size: 128, params: { patch: 7 }, threshold: 0.05, minArea: 20 });
  assert.equal(a.settings.size, 128);
  assert.equal(a.settings.patch, 7);
  assert.deepEqual(a.decision, { threshold: 0.05, minArea: 20, border: 0 });
  const b = resolveOptions({ size: 128, patch: 7 } as never);
  assert.equal(b.settings.patch, 7);
  assert.equal(a.key, b.key, "decision options do not change the detector");
  assert.notEqual(a.key, resolveOptions({ size: 96, params: { patch: 7 } }).key);
  assert.deepEqual(
    resolveOptions({ preset: "paper" }).settings,
    parsePipelineFlags({ preset: "paper" }),
  );
});

Deno.test("web options: bad options are one line naming the option", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ params: { patch: 4 } }, /^params\.patch must be an odd integer/],
    [{ size: 3 }, /^size must be 'original', 'auto' or an integer in \[8, 16384\]/],
    [{ minArea: 0 }, /^minArea must be an integer >= 1, got '0'/],
    [{ threshold: "high" }, /^threshold must be a number, got 'high'/],
    [{ stats: "magic" }, /^stats must be one of fca, sww/],
    [{ colour: 1 }, /^unknown option 'colour'$/],
    [{ model: "x.onnx" }, /^option 'model' belongs to the page, not to a detection$/],
    [{ backend: "cpu" }, /^option 'backend' belongs to the page/],
  ];
  for (const [opts, re] of cases) {
    assert.throws(() => resolveOptions(opts as never), (e: Error) => {
      assert.match(e.message, re, JSON.stringify(opts));
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
  assert.throws(() => resolveOptions(null as never), /options must be an object/);
});

Deno.test("web options: the page's address uses the CLI's flag names", () => {
  const q = (s: string) => optionsFromQuery(new URLSearchParams(s));
  assert.deepEqual(q("size=128&patch=7&threshold=0.05&min-area=20&sigma-p=2"), {
    size: 128,
    patch: 7,
    threshold: 0.05,
    minArea: 20,
    sigmaP: 2,
  });
  assert.deepEqual(q("size=auto&patch=auto&preset=paper"), {
    size: "auto",
    patch: "auto",
    preset: "paper",
  });
  assert.deepEqual(q(""), {});
  assert.throws(() => q("min_area=3"), /^Error: unknown option 'min_area' in the page's address$/);
  assert.throws(() => q("backend=cpu"), /--backend belongs to the command line/);
  assert.throws(() => q("profile=p.json"), /unknown option 'profile'/);
  assert.throws(() => q("patch=4"), /params\.patch must be an odd integer/);
});
