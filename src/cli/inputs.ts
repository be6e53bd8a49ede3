/**
 * Expanding command-line paths into the list of images to process.
 * @module
 */

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** One input: a file path, or the reason the argument yields nothing. */
export type InputItem = { path: string } | { path: string; error: string };

/** Options of {@link expandInputs}. */
export interface ExpandOptions {
  /**
   * Also walk subfolders (`--recursive`): files sorted by their path relative to the argument;
   * folders whose name starts with "." and symbolic links to folders are not entered.
   */
  recursive?: boolean;
}

/**
 * Files are taken as given (their content decides the format); directories contribute their
 * `.png`/`.jpg`/`.jpeg` files (not recursive unless `opts.recursive`), sorted by name. Missing
 * paths and directories without images become error items so a batch can report them and go on.
 */
export async function expandInputs(
  args: readonly string[],
  opts: ExpandOptions = {},
): Promise<InputItem[]> {
  const items: InputItem[] = [];
  for (const arg of args) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(arg);
    } catch {
      items.push({ path: arg, error: "no such file or directory" });
      continue;
    }
    if (!info.isDirectory) {
      items.push({ path: arg });
      continue;
    }
    const names = await imagesIn(arg, "", opts.recursive ?? false);
    if (names.length === 0) items.push({ path: arg, error: "directory has no PNG or JPEG images" });
    const sep = arg.endsWith("/") ? "" : "/";
    for (const name of names) items.push({ path: `${arg}${sep}${name}` });
  }
  return items;
}

/** Image files under `dir/rel`, as paths relative to `dir`, sorted (subfolders after files). */
async function imagesIn(dir: string, rel: string, recursive: boolean): Promise<string[]> {
  const files: string[] = [], folders: string[] = [];
  for await (const entry of Deno.readDir(rel ? `${dir}/${rel}` : dir)) {
    if (entry.isFile && IMAGE_EXT.test(entry.name) && !isOwnOutput(entry.name)) {
      files.push(entry.name);
    } else if (recursive && entry.isDirectory && !entry.name.startsWith(".")) {
      folders.push(entry.name);
    }
  }
  files.sort();
  folders.sort();
  const out = files.map((f) => (rel ? `${rel}/${f}` : f));
  for (const f of folders) out.push(...await imagesIn(dir, rel ? `${rel}/${f}` : f, true));
  return out;
}

/**
 * Our own outputs (`*.anomaly.png`, `*.overlay.png`, `*.mask.png`) are not inputs when a folder
 * is rerun.
 */
export function isOwnOutput(name: string): boolean {
  return /\.(anomaly|overlay|mask)\.png$/i.test(name);
}
