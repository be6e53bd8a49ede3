/**
 * The architecture as a test: modules import only from their own floor or below (base and the
 * design table at the bottom, then io, fca, gpu and features, pipeline and eval, cli), and the
 * import graph has no cycles. The browser app (`web/`) sits on top, beside the CLI: it imports
 * the pipeline and what is under it, and nothing in `src/` imports it.
 */
import assert from "node:assert/strict";

const SRC = new URL("../src/", import.meta.url);

/** Floor of each top-level folder (or file) under src/. */
const FLOORS: Record<string, number> = {
  "base": 0,
  "design.ts": 0,
  "io": 1,
  "demo": 1,
  "fca": 2,
  "gpu": 3,
  "features": 3,
  "decision": 3,
  "pipeline": 4,
  "eval": 4,
  "serve": 5,
  "fleet": 5,
  "cli": 5,
};

function walk(dir: URL, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) out.push(...walk(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`));
    else if (e.name.endsWith(".ts")) out.push(`${prefix}${e.name}`);
  }
  return out;
}

/**
 * Relative imports of a module, as paths under src/: static, dynamic and worker URLs, or with
 * `runtimeOnly` those that exist at run time (type-only imports are erased).
 */
function importsOf(path: string, runtimeOnly = false): string[] {
  const text = Deno.readTextFileSync(new URL(path, SRC))
    .split("\n").filter((line) => !/^\s*(\*|\/\/)/.test(line)).join("\n");
  const specs = [
    ...text.matchAll(
      /(import type|export type|from|import)\s*(?:\{[^}]*\}\s*from\s*)?\(?\s*"(\.{1,2}\/[^"]+\.ts)"/g,
    ),
    ...text.matchAll(/(new URL)\(\s*"(\.{1,2}\/[^"]+\.ts)"/g),
  ].filter((m) => !runtimeOnly || !m[1].endsWith(" type")).map((m) => m[2]);
  return specs.map((s) => new URL(s, new URL(path, SRC)).pathname.slice(SRC.pathname.length));
}

const floorOf = (path: string) => {
  const top = path.split("/")[0];
  const floor = FLOORS[top];
  if (floor === undefined) throw new Error(`src/${path}: its folder has no floor in this test`);
  return floor;
};

const MODULES = walk(SRC);
const inSrc = (i: string) => !i.startsWith("../");
const GRAPH = new Map(MODULES.map((m) => [m, importsOf(m).filter(inSrc)]));
const RUNTIME_GRAPH = new Map(MODULES.map((m) => [m, importsOf(m, true).filter(inSrc)]));

Deno.test("layering: no module imports from a higher floor", () => {
  const upward: string[] = [];
  for (const [m, deps] of GRAPH) {
    for (const d of deps) if (floorOf(d) > floorOf(m)) upward.push(`${m} -> ${d}`);
  }
  assert.deepEqual(upward, []);
  assert.ok(MODULES.length > 50, "the walk found the modules");
});

Deno.test("layering: the run-time import graph has no cycles", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (m: string, stack: string[]) => {
    if (state.get(m) === "done") return;
    if (state.get(m) === "open") {
      cycles.push([...stack.slice(stack.indexOf(m)), m].join(" -> "));
      return;
    }
    state.set(m, "open");
    for (const d of RUNTIME_GRAPH.get(m) ?? []) visit(d, [...stack, m]);
    state.set(m, "done");
  };
  for (const m of MODULES) visit(m, []);
  assert.deepEqual(cycles, []);
});

Deno.test("layering: the checker sees an upward import (self-test)", () => {
  assert.ok(floorOf("cli/main.ts") > floorOf("pipeline/detector.ts"));
  assert.ok(
    importsOf("cli/detect.ts").includes("pipeline/detector.ts"),
    "cli/detect.ts imports the detector",
  );
});

const WEB = new URL("../web/", import.meta.url);

/** Relative imports of a module given by URL, resolved to URLs. */
function importUrls(url: URL): URL[] {
  const text = Deno.readTextFileSync(url)
    .split("\n").filter((line) => !/^\s*(\*|\/\/)/.test(line)).join("\n");
  return [
    ...text.matchAll(/(?:from|import)\s*(?:\{[^}]*\}\s*from\s*)?\(?\s*"(\.{1,2}\/[^"]+\.ts)"/g),
    ...text.matchAll(/new URL\(\s*"(\.{1,2}\/[^"]+\.ts)"/g),
  ].map((m) => new URL(m[1], url));
}

Deno.test("layering: web/ imports src/ up to the pipeline (not cli, serve, fleet); src/ never web/", () => {
  const webModules = [...Deno.readDirSync(WEB)].filter((e) => e.isFile && e.name.endsWith(".ts"));
  assert.ok(webModules.length >= 5, "the walk found the app's modules");
  const wrong: string[] = [];
  let fromSrc = 0;
  for (const e of webModules) {
    for (const dep of importUrls(new URL(e.name, WEB))) {
      if (dep.href.startsWith(WEB.href)) continue;
      if (!dep.href.startsWith(SRC.href)) {
        wrong.push(`web/${e.name} -> ${dep.pathname}`);
        continue;
      }
      fromSrc++;
      const path = dep.href.slice(SRC.href.length);
      if (floorOf(path) > floorOf("pipeline/detector.ts")) wrong.push(`web/${e.name} -> ${path}`);
    }
  }
  for (const m of MODULES) {
    for (const dep of importUrls(new URL(m, SRC))) {
      if (dep.href.startsWith(WEB.href)) wrong.push(`src/${m} -> web/`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(fromSrc > 10, "web/ imports the pipeline rather than a copy of it");
});
