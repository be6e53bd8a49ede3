/**
 * Path splitting that accepts both `/` and `\` separators (paths typed on Windows, or read from
 * lists written there), in one place.
 *
 * @example
 * ```ts
 * import { baseName, splitPath } from "./paths.ts";
 * console.assert(baseName("data\\carpet/000.png") === "000.png");
 * console.assert(baseName("runs/maps/") === "maps");
 * console.assert(splitPath("a/b.png").dir === "a/" && splitPath("b.png").dir === "");
 * ```
 * @module
 */

/** The folder part (with its trailing separator, or "" when there is none) and the file name. */
export function splitPath(path: string): { dir: string; name: string } {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return { dir: path.slice(0, slash + 1), name: path.slice(slash + 1) };
}

/** The last component of `path`, ignoring trailing separators ("a/b/" → "b"). */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  return trimmed === "" ? path : splitPath(trimmed).name;
}
