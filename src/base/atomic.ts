/**
 * Atomic file output: write to a temporary sibling, then rename, so an interrupted run never
 * leaves a half-written file under the final name.
 * @module
 */
import { splitPath } from "./paths.ts";

/** Write `bytes` to `path` atomically (temporary file in the same folder, then rename). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const { dir, name } = splitPath(path);
  const tmp = `${dir}.${name}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
