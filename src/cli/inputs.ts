/**
 * Expanding command-line paths into the list of images to process.
 * @module
 */

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** One input: a file path, or the reason the argument yields nothing. */
export type InputItem = { path: string } | { path: string; error: string };

/**
 * Files are taken as given (their content decides the format); directories contribute their
 * `.png`/`.jpg`/`.jpeg` files (not recursive), sorted by name. Missing paths and directories
 * without images become error items so a batch can report them and go on.
 */
export async function expandInputs(args: readonly string[]): Promise<InputItem[]> {
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
    const names: string[] = [];
    for await (const entry of Deno.readDir(arg)) {
      if (entry.isFile && IMAGE_EXT.test(entry.name) && !isOwnOutput(entry.name)) {
        names.push(entry.name);
      }
    }
    names.sort();
    if (names.length === 0) items.push({ path: arg, error: "directory has no PNG or JPEG images" });
    const sep = arg.endsWith("/") ? "" : "/";
    for (const name of names) items.push({ path: `${arg}${sep}${name}` });
  }
  return items;
}

/** Our own outputs (`*.anomaly.png`, `*.overlay.png`) are not inputs when a folder is rerun. */
export function isOwnOutput(name: string): boolean {
  return /\.(anomaly|overlay)\.png$/i.test(name);
}
