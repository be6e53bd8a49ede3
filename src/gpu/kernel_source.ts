/**
 * Loads WGSL sources from `kernels/` by URL. Under Deno the folder is `kernels/` next to the
 * project root, found through `import.meta.url` and read with Deno's file API, so the same code
 * works from a checkout and from a `deno compile` binary built with `--include kernels`. A browser
 * page sets {@link setKernelFolder} to where it serves the same files; they are then fetched.
 *
 * WGSL has no includes; a line `//#include NAME` is replaced by `kernels/lib/NAME.wgsl` (once per
 * kernel, nested includes expanded), so helpers such as `reflectIndex` exist in one place.
 * @module
 */

/** Reads one file of the kernel folder by its relative path (`fca.wgsl`, `lib/reflect.wgsl`). */
export type KernelReader = (path: string) => Promise<string>;

/**
 * The reader of the kernel folder at `folder` (a URL ending in `/`): `file:` URLs through Deno's
 * file API, any other URL with `fetch` (one line naming the URL and the status on failure).
 */
export function urlKernelReader(folder: URL): KernelReader {
  if (!folder.href.endsWith("/")) throw new Error(`kernel folder ${folder.href} must end in /`);
  return async (path) => {
    const url = new URL(path, folder);
    if (url.protocol === "file:") return await Deno.readTextFile(url);
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new Error(`kernel ${url.href}: ${(e as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`kernel ${url.href}: HTTP ${res.status}`);
    }
    return await res.text();
  };
}

/** The project's own `kernels/` folder (a `file:` URL under Deno). */
export const DEFAULT_KERNEL_FOLDER: URL = new URL("../../kernels/", import.meta.url);

let reader: KernelReader = urlKernelReader(DEFAULT_KERNEL_FOLDER);
const cache = new Map<string, Promise<string>>();

/**
 * Read kernels from `folder` from now on (a browser page: the URL of its copy of `kernels/`);
 * kernels already loaded are read again. Pipelines compiled before keep their code.
 */
export function setKernelFolder(folder: URL): void {
  setKernelReader(urlKernelReader(folder));
}

/** Read kernels with `next` from now on (tests; see {@link setKernelFolder}). */
export function setKernelReader(next: KernelReader): void {
  reader = next;
  cache.clear();
}

/** The WGSL text of `kernels/<name>.wgsl` with its includes expanded, read once per process. */
export function loadKernel(name: string): Promise<string> {
  let hit = cache.get(name);
  if (hit === undefined) {
    const read = reader;
    hit = read(`${name}.wgsl`).then((text) => expandIncludes(read, text, new Set()));
    cache.set(name, hit);
    // A failed read is not cached: the next call tries again (e.g. after a network error).
    hit.catch(() => cache.get(name) === hit && cache.delete(name));
  }
  return hit;
}

async function expandIncludes(
  read: KernelReader,
  source: string,
  seen: Set<string>,
): Promise<string> {
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
    lines[i] = await expandIncludes(read, await read(`lib/${lib}.wgsl`), seen);
  }
  return lines.join("\n");
}
