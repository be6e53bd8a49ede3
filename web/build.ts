/**
 * `deno task web [--out DIR] [--model PATH | --no-model] [--output NAME]`: builds the browser
 * app into a folder of static files (default `dist/web/`) that any static host serves, and
 * that `mod.ts serve` serves at `/app`:
 *
 * - `main.js` and its chunks: `web/main.ts` bundled by `deno bundle` for the browser, with code
 *   splitting, so that the Deno-only parts the pipeline loads lazily (onnxruntime-node, the CPU
 *   ONNX runtime, the model builder) sit in chunks the page never fetches;
 * - `kernels/`: the WGSL kernels, as in the repository (the page fetches them by URL);
 * - the WebAssembly files the bundle loads beside itself: onnxruntime-web's WebGPU build and
 *   the mozjpeg decoder, copied from Deno's npm cache at the pinned versions (no CDN);
 * - `index.html`, `style.css`;
 * - the backbone and its `model.json` (the default model when found, else `--model PATH`;
 *   `--no-model` leaves it out: the page then asks for the file once).
 *
 * The folder is built beside the target and renamed into place; an existing folder is replaced
 * only when it is an earlier build (it holds {@link MARKER}), never another folder.
 * @module
 */
import { parseArgs } from "node:util";
import { baseName, splitPath } from "../src/base/paths.ts";
import { ModelNotFoundError, projectDir, resolveModelPath } from "../src/features/model_path.ts";
import { originModelInfo } from "../src/features/model_info.ts";

/** File marking a folder as a build of this app (so that a rebuild may replace it). */
export const MARKER = ".fca-web-build";

const ROOT = new URL("../", import.meta.url);

/** Help text of the web task. */
export const WEB_HELP =
  `Usage: deno task web [--out DIR] [--model PATH | --no-model] [--output NAME]
Builds the browser app (web/) into DIR (default dist/web): static files that any web server
serves; 'deno run -A mod.ts serve' serves the default folder at /app.

  --out DIR       output folder (replaced only if it is an earlier build)
  --model PATH    ONNX backbone served with the app (default: the default model, when found)
  --no-model      leave the model out: the page asks for the file once and keeps it
  --output NAME   which output of a model with several (as the CLI's --output)`;

/** npm packages whose files the bundle loads beside itself, and the wrapper pinning each. */
const WASM_FILES = [
  {
    pin: "src/base/npm/onnxruntime_web_webgpu.ts",
    pkg: "onnxruntime-web",
    file: "dist/ort-wasm-simd-threaded.asyncify.wasm",
  },
  { pin: "src/base/npm/jsquash_jpeg.ts", pkg: "@jsquash/jpeg", file: "codec/dec/mozjpeg_dec.wasm" },
] as const;

/** What a build produced. */
export interface WebBuild {
  out: string;
  files: number;
  bytes: number;
  model?: string;
}

/** Build the app into `out` (see the module's description). */
export async function buildWeb(opts: {
  out: string;
  model?: string | false;
  output?: string;
  quiet?: boolean;
}): Promise<WebBuild> {
  const out = opts.out.replace(/\/+$/, "");
  await checkReplaceable(out);
  const { dir } = splitPath(out);
  if (dir !== "") await Deno.mkdir(dir, { recursive: true });
  const tmp = `${out}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  try {
    await Deno.mkdir(tmp, { recursive: true });
    await bundle(tmp, opts.quiet ?? false);
    for (const f of ["index.html", "style.css"]) {
      await Deno.copyFile(new URL(`web/${f}`, ROOT), `${tmp}/${f}`);
    }
    await copyTree(new URL("kernels/", ROOT), `${tmp}/kernels`, (n) => n.endsWith(".wgsl"));
    const bundled = await bundledText(tmp);
    const cache = await npmCache();
    for (const w of WASM_FILES) {
      const name = baseName(w.file);
      // The bundle finds these through `new URL(name, import.meta.url)`: fail loudly if an
      // upgrade renamed one, rather than ship a page that 404s.
      if (!bundled.includes(`"${name}"`)) {
        throw new Error(`web build: the bundle no longer names ${name}; update WASM_FILES`);
      }
      await Deno.copyFile(await npmFile(cache, w), `${tmp}/${name}`);
    }
    const model = await modelPath(opts.model);
    if (model) {
      const url = baseName(model);
      const info = await originModelInfo(model, { url, output: opts.output });
      await Deno.copyFile(model, `${tmp}/${url}`);
      await Deno.writeTextFile(`${tmp}/model.json`, JSON.stringify(info, null, 2) + "\n");
    }
    await Deno.writeTextFile(`${tmp}/${MARKER}`, "built by deno task web (web/build.ts)\n");
    const { files, bytes } = await sizeOf(tmp);
    await Deno.remove(out, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    await Deno.rename(tmp, out);
    return { out, files, bytes, ...(model ? { model } : {}) };
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** Refuse to replace anything but an earlier build or an empty folder. */
async function checkReplaceable(out: string): Promise<void> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(out);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const isBuild = stat.isDirectory &&
    await Deno.stat(`${out}/${MARKER}`).then(() => true, () => false);
  const isEmpty = stat.isDirectory && (await Array.fromAsync(Deno.readDir(out))).length === 0;
  if (!isBuild && !isEmpty) {
    throw new Error(`--out ${out}: exists and is not an earlier build of the app; not replaced`);
  }
}

/** `deno bundle` of web/main.ts into `dir` (browser platform, code splitting). */
async function bundle(dir: string, quiet: boolean): Promise<void> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--code-splitting",
      // Loaded only by the CPU backbone (`await import`), never by the page: its native addon
      // cannot be bundled.
      "--external=npm:onnxruntime-node*",
      `--outdir=${dir}`,
      new URL("web/main.ts", ROOT).pathname,
    ],
    cwd: new URL(".", ROOT).pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const { code, stderr, stdout } = await cmd.output();
  const text = new TextDecoder().decode(stderr) + new TextDecoder().decode(stdout);
  if (code !== 0) {
    const lines = text.split("\n").filter((l) => /error/i.test(l));
    throw new Error(`web build: deno bundle failed: ${lines[0] ?? text.trim().split("\n")[0]}`);
  }
  if (!quiet && text.trim() !== "") console.error(text.trim());
}

/** Every .js file of the bundle, concatenated (to check the names it loads). */
async function bundledText(dir: string): Promise<string> {
  let text = "";
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".js")) text += await Deno.readTextFile(`${dir}/${e.name}`);
  }
  return text;
}

/** Deno's npm cache folder (`deno info --json`). */
async function npmCache(): Promise<string> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const info = code === 0 ? JSON.parse(new TextDecoder().decode(stdout)) : {};
  if (typeof info.npmCache !== "string") {
    throw new Error("web build: `deno info` gave no npm cache");
  }
  return info.npmCache;
}

/** A file of a pinned npm package in Deno's cache (the version read from its wrapper). */
async function npmFile(cache: string, w: (typeof WASM_FILES)[number]): Promise<string> {
  const pinText = await Deno.readTextFile(new URL(w.pin, ROOT));
  const m = new RegExp(`npm:${w.pkg.replace("/", "\\/")}@([0-9][^/"]*)`).exec(pinText);
  if (!m) throw new Error(`web build: no version of ${w.pkg} in ${w.pin}`);
  for await (const registry of Deno.readDir(cache)) {
    const path = `${cache}/${registry.name}/${w.pkg}/${m[1]}/${w.file}`;
    if (await Deno.stat(path).then((s) => s.isFile, () => false)) return path;
  }
  throw new Error(`web build: ${w.pkg}@${m[1]}/${w.file} is not in Deno's npm cache (${cache})`);
}

/** The model to include: `false` none; a path; else the default model when found. */
async function modelPath(model: string | false | undefined): Promise<string | undefined> {
  if (model === false) return undefined;
  if (model !== undefined) {
    if (!(await Deno.stat(model).then((s) => s.isFile, () => false))) {
      throw new Error(`--model ${model}: no such file`);
    }
    return model;
  }
  try {
    return resolveModelPath();
  } catch (e) {
    if (e instanceof ModelNotFoundError) return undefined;
    throw e;
  }
}

async function copyTree(from: URL, to: string, keep: (name: string) => boolean): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(new URL(`${e.name}/`, from), `${to}/${e.name}`, keep);
    else if (e.isFile && keep(e.name)) {
      await Deno.copyFile(new URL(e.name, from), `${to}/${e.name}`);
    }
  }
}

async function sizeOf(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0, bytes = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) {
      const sub = await sizeOf(`${dir}/${e.name}`);
      files += sub.files;
      bytes += sub.bytes;
    } else if (e.isFile) {
      files++;
      bytes += (await Deno.stat(`${dir}/${e.name}`)).size;
    }
  }
  return { files, bytes };
}

/** The default output folder: `dist/web` in the project. */
export function defaultOut(): string {
  return `${projectDir() ?? "./"}dist/web`;
}

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        out: { type: "string" },
        model: { type: "string" },
        "no-model": { type: "boolean" },
        output: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`error: ${(e as Error).message.split("\n")[0]} (see --help)`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(WEB_HELP);
    Deno.exit(0);
  }
  if (values.model !== undefined && values["no-model"]) {
    console.error("error: --model and --no-model exclude each other");
    Deno.exit(2);
  }
  try {
    const t = performance.now();
    const b = await buildWeb({
      out: values.out ?? defaultOut(),
      model: values["no-model"] ? false : values.model,
      output: values.output,
    });
    console.error(
      `built ${b.out}: ${b.files} files, ${(b.bytes / 1048576).toFixed(1)} MiB, ` +
        (b.model ? `model ${b.model}` : "no model (the page asks for one)") +
        `, in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    console.error(`error: ${(e as Error).message.split("\n")[0]}`);
    Deno.exit(1);
  }
}
