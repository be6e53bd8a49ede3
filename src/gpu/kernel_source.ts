/**
 * Loads WGSL sources from `kernels/` next to the project root through `import.meta.url`, so the
 * same code works from a checkout and from a `deno compile` binary built with `--include kernels`.
 * @module
 */

const cache = new Map<string, string>();

/** The WGSL text of `kernels/<name>.wgsl`, read once per process. */
export async function loadKernel(name: string): Promise<string> {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const url = new URL(`../../kernels/${name}.wgsl`, import.meta.url);
  const text = await Deno.readTextFile(url);
  cache.set(name, text);
  return text;
}
