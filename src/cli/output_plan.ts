/**
 * Planning output names for a batch so that no two inputs write the same file.
 *
 * Each input gets a *stem*, a path prefix its outputs append `.anomaly.png`, `.overlay.png`,
 * `.anomaly.npy`, `.mask.png` to. The plan, applied in this order (each step only to the inputs
 * that still clash):
 *
 * 1. `<dir>/<name without extension>`, where `<dir>` is `--out` or else the input's own folder
 *    (the historic naming: unchanged whenever nothing clashes).
 * 2. With `--out`, clashing inputs from different folders mirror their folder under `--out`,
 *    relative to the deepest folder common to all inputs: `f/a/000.png f/b/000.png --out X` →
 *    `X/a/000`, `X/b/000`. `..` segments that remain become `__` so nothing is written outside
 *    `--out`.
 * 3. Clashing inputs keep their extension in the stem: `a.png a.jpg` → `a.png`, `a.jpg` (outputs
 *    `a.png.anomaly.png`, `a.jpg.anomaly.png`).
 * 4. Anything still clashing (the same file given twice) gets `~2`, `~3`, … in input order.
 *
 * Stems are compared case-insensitively (outputs must not clash on case-insensitive file
 * systems either), after lexical normalisation of `.`/`..` and repeated separators.
 * @module
 */

/** The output files of one stem. */
export interface StemOutputs {
  heatmap: string;
  overlay: string;
  npy: string;
  mask: string;
}

/** The output paths of a planned stem. */
export function outputsForStem(stem: string): StemOutputs {
  return {
    heatmap: `${stem}.anomaly.png`,
    overlay: `${stem}.overlay.png`,
    npy: `${stem}.anomaly.npy`,
    mask: `${stem}.mask.png`,
  };
}

/** Path segments after lexical normalisation; an absolute path starts with "" (POSIX). */
function segments(path: string): string[] {
  const abs = /^[\\/]/.test(path);
  const out: string[] = [];
  for (const s of path.split(/[\\/]+/)) {
    if (s === "" || s === ".") continue;
    if (s === ".." && out.length && out[out.length - 1] !== "..") out.pop();
    else if (s === ".." && abs) continue; // "/.." is "/"
    else out.push(s);
  }
  return abs ? ["", ...out] : out;
}

function joinSegments(segs: readonly string[]): string {
  if (segs.length === 1 && segs[0] === "") return "/";
  return segs.join("/") || ".";
}

/**
 * One stem per input (same order), no two equal even ignoring case. Pure: looks at the strings
 * only.
 */
export function planOutputStems(inputs: readonly string[], outDir?: string): string[] {
  const parsed = inputs.map((p) => {
    const segs = segments(p);
    const name = segs.length ? segs[segs.length - 1] : p;
    const dot = name.lastIndexOf(".");
    return {
      dir: segs.slice(0, -1),
      name,
      base: dot > 0 ? name.slice(0, dot) : name,
    };
  });
  const out = outDir === undefined ? undefined : outDir.replace(/[\\/]+$/, "") || "/";
  const prefix = (dirSegs: readonly string[]) =>
    out !== undefined
      ? (dirSegs.length ? `${out === "/" ? "" : out}/${dirSegs.join("/")}` : out)
      : joinSegments(dirSegs);
  const at = (dir: string, file: string) => `${dir === "/" ? "" : dir}/${file}`;
  // Step 1.
  const stems = parsed.map((p) => at(prefix(out !== undefined ? [] : p.dir), p.base));
  // Step 2: mirror folders under --out.
  if (out !== undefined) {
    const common = commonPrefix(parsed.map((p) => p.dir));
    for (const i of clashing(stems)) {
      const rel = parsed[i].dir.slice(common).map((s) => (s === ".." ? "__" : s)).filter((s) =>
        s !== ""
      );
      stems[i] = at(prefix(rel), parsed[i].base);
    }
  }
  // Step 3: keep the extension.
  for (const i of clashing(stems)) {
    const s = stems[i];
    stems[i] = s.slice(0, s.length - parsed[i].base.length) + parsed[i].name;
  }
  // Step 4: numbered, in input order (the first keeps its stem).
  const seen = new Set<string>();
  for (let i = 0; i < stems.length; i++) {
    let s = stems[i];
    for (let n = 2; seen.has(s.toLowerCase()); n++) s = `${stems[i]}~${n}`;
    seen.add(s.toLowerCase());
    stems[i] = s;
  }
  return stems;
}

/** Indices whose stem (case-insensitive) is shared with another input. */
function clashing(stems: readonly string[]): number[] {
  const count = new Map<string, number>();
  for (const s of stems) count.set(s.toLowerCase(), (count.get(s.toLowerCase()) ?? 0) + 1);
  return stems.flatMap((s, i) => ((count.get(s.toLowerCase()) ?? 0) > 1 ? [i] : []));
}

/** Length of the common leading segments of all lists. */
function commonPrefix(lists: readonly (readonly string[])[]): number {
  if (!lists.length) return 0;
  let n = Math.min(...lists.map((l) => l.length));
  for (const l of lists) {
    let k = 0;
    while (k < n && l[k] === lists[0][k]) k++;
    n = k;
  }
  return n;
}
