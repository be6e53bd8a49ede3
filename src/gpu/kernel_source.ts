/**
 * Loads WGSL sources from `kernels/` next to the project root through `import.meta.url`, so the
 * same code works from a checkout and from a `deno compile` binary built with `--include kernels`.
 *
 * WGSL has no includes; a line `//#include NAME` is replaced by `kernels/lib/NAME.wgsl` (once per
 * kernel, nested includes expanded), so helpers such as `reflectIndex` exist in one place.
 * @module
 */

const cache = new Map<string, string>();

/** The WGSL text of `kernels/<name>.wgsl` with its includes expanded, read once per process. */
export async function loadKernel(name: string): Promise<string> {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const text = await expandIncludes(await readSource(`${name}.wgsl`), new Set());
  cache.set(name, text);
  return text;
}

function readSource(path: string): Promise<string> {
  return Deno.readTextFile(new URL(`../../kernels/${path}`, import.meta.url));
}

async function expandIncludes(source: string, seen: Set<string>): Promise<string> {
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\/\/#include\s+([a-z0-9_]+)\s*$/.exec(lines[i]);
    if (!m) continue;
    const lib = m[1];
    if (seen.has(lib)) {
      lines[i] = `// (${lib} already included)`;
      continue;
    }
    seen.add(lib);
    lines[i] = await expandIncludes(await readSource(`lib/${lib}.wgsl`), seen);
  }
  return lines.join("\n");
}
