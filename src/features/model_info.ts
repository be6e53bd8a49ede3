/**
 * `model.json`: how a web origin describes the backbone it serves to the browser app (written by
 * `deno task web` beside the built page, answered by `mod.ts serve` at `/app/model.json`). The
 * page downloads the model once, checks its sha256 and keeps it in the browser under that key.
 * @module
 */
import { loadManifestFor, type ModelManifest, sha256File } from "./manifest.ts";
import { baseName } from "../base/paths.ts";

/** The content of `model.json`. */
export interface OriginModelInfo {
  /** The model's file name (matched against models/manifest.json, as for a file on disk). */
  file: string;
  /** Where the page fetches it, relative to model.json (same origin). */
  url: string;
  /** Hex sha256 of the file: the browser's cache key, checked after download. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /**
   * Its description where one exists (a sidecar or a models/manifest.json entry: input, output,
   * stride, channels, normalisation); absent when it is read from the graph, as the page does.
   */
  entry?: Omit<ModelManifest, "origin" | "outputs" | "inferred">;
}

/** The `model.json` of the model file at `path`, to be served at `url`. */
export async function originModelInfo(
  path: string,
  opts: { url: string; output?: string },
): Promise<OriginModelInfo> {
  const manifest = await loadManifestFor(path, { output: opts.output });
  const [sha256, stat] = await Promise.all([sha256File(path), Deno.stat(path)]);
  const { origin, outputs: _outputs, inferred: _inferred, ...entry } = manifest;
  return {
    file: baseName(path),
    url: opts.url,
    sha256,
    size: stat.size,
    ...(origin === "graph" && opts.output === undefined ? {} : { entry }),
  };
}
