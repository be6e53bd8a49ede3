/**
 * Walking a dataset in MVTec AD layout: `<root>/<category>/test/<defect>/<id>.png|jpg` with
 * masks at `<root>/<category>/ground_truth/<defect>/<id>_mask.png` (none for `good`). `root` may
 * also be a single category folder (it then contains `test/` itself).
 * @module
 */
import { baseName } from "../base/paths.ts";

/** One test image with its mask. */
export interface DatasetImage {
  category: string;
  defect: string;
  /** File stem, e.g. `000`. */
  id: string;
  imagePath: string;
  /** Null for `good` images (all pixels normal). */
  maskPath: string | null;
  /** Path relative to the category folder: `test/<defect>/<file>`. */
  rel: string;
}

/** A subset of images to evaluate (e.g. `../shared/anchors/<set>_subset.json`). */
export interface ImageList {
  /** Folder of the category the entries belong to; its last component names the category. */
  dataset?: string;
  /** Entries `test/<defect>/<file>` (or `<category>/test/<defect>/<file>`). */
  images: string[];
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Read an image list: `{dataset?, images: [...]}` or a bare JSON array of entries. */
export async function readImageList(path: string): Promise<ImageList> {
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`${path}: cannot read image list (${(e as Error).message})`);
  }
  const obj = Array.isArray(raw) ? { images: raw } : raw as Record<string, unknown>;
  const images = obj?.images;
  if (!Array.isArray(images) || !images.every((x) => typeof x === "string")) {
    throw new Error(`${path}: image list must be a JSON array of paths or {"images": [...]}`);
  }
  const dataset = typeof obj.dataset === "string" ? obj.dataset : undefined;
  return { dataset, images: images as string[] };
}

/** Names of the categories under `root` (sorted), or `[basename(root)]` for a category folder. */
export async function listCategories(root: string): Promise<{ name: string; dir: string }[]> {
  if (await isDir(`${root}/test`)) return [{ name: baseName(root), dir: root }];
  const out: { name: string; dir: string }[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (e.isDirectory && await isDir(`${root}/${e.name}/test`)) {
        out.push({ name: e.name, dir: `${root}/${e.name}` });
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${root}: no such dataset folder`);
    throw e;
  }
  if (out.length === 0) throw new Error(`${root}: no category with a test/ folder (MVTec layout)`);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * All test images of the selected categories, grouped by category (sorted by defect, then
 * file name). With a `list`, only its entries; an entry that matches no image is an error.
 */
export async function listDataset(
  root: string,
  opts: { categories?: string[]; list?: ImageList } = {},
): Promise<Map<string, DatasetImage[]>> {
  let cats = await listCategories(root);
  if (opts.categories?.length) {
    const known = new Set(cats.map((c) => c.name));
    const missing = opts.categories.filter((c) => !known.has(c));
    if (missing.length) {
      throw new Error(`${root}: no category ${missing.join(", ")} (have ${[...known].join(", ")})`);
    }
    cats = cats.filter((c) => opts.categories!.includes(c.name));
  }
  const result = new Map<string, DatasetImage[]>();
  for (const cat of cats) result.set(cat.name, await listCategory(cat.name, cat.dir));
  return opts.list ? applyList(result, opts.list) : result;
}

async function listCategory(category: string, dir: string): Promise<DatasetImage[]> {
  const defects: string[] = [];
  for await (const e of Deno.readDir(`${dir}/test`)) if (e.isDirectory) defects.push(e.name);
  defects.sort();
  const images: DatasetImage[] = [];
  for (const defect of defects) {
    const files: string[] = [];
    for await (const e of Deno.readDir(`${dir}/test/${defect}`)) {
      if (e.isFile && IMAGE_EXT.test(e.name)) files.push(e.name);
    }
    files.sort();
    for (const file of files) {
      const id = file.replace(IMAGE_EXT, "");
      let maskPath: string | null = null;
      if (defect !== "good") {
        maskPath = `${dir}/ground_truth/${defect}/${id}_mask.png`;
        if (!(await isFile(maskPath))) {
          throw new Error(
            `${maskPath}: missing ground-truth mask for ${dir}/test/${defect}/${file}`,
          );
        }
      }
      images.push({
        category,
        defect,
        id,
        imagePath: `${dir}/test/${defect}/${file}`,
        maskPath,
        rel: `test/${defect}/${file}`,
      });
    }
  }
  return images;
}

function applyList(all: Map<string, DatasetImage[]>, list: ImageList): Map<string, DatasetImage[]> {
  const listCat = list.dataset ? baseName(list.dataset.replace(/[\\/]+$/, "")) : undefined;
  // Each entry names one image, in the list's category or (without one) in any category.
  const candidates = list.images.map((entry) => {
    const e = entry.replace(/\\/g, "/").replace(/^\.\//, "");
    if (!e.startsWith("test/")) return [e];
    return listCat !== undefined ? [`${listCat}/${e}`] : [...all.keys()].map((c) => `${c}/${e}`);
  });
  const wanted = new Set(candidates.flat());
  const out = new Map<string, DatasetImage[]>();
  const found = new Set<string>();
  for (const [cat, images] of all) {
    const kept = images.filter((im) => wanted.has(`${cat}/${im.rel}`));
    kept.forEach((im) => found.add(`${cat}/${im.rel}`));
    if (kept.length) out.set(cat, kept);
  }
  const missing = candidates.findIndex((c) => !c.some((k) => found.has(k)));
  if (missing >= 0) {
    throw new Error(
      `image list entry ${list.images[missing]} matches no test image of the selected categories`,
    );
  }
  return out;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await Deno.stat(p)).isDirectory;
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await Deno.stat(p)).isFile;
  } catch {
    return false;
  }
}
