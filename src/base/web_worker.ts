/**
 * Starting our worker threads with the Web Worker constructor, whatever happened to the global.
 *
 * onnxruntime-web's Emscripten glue sees `process.versions.node` in Deno and, when its wasm
 * module initialises, sets `globalThis.Worker = require("worker_threads").Worker`. From then on
 * `new Worker(url, { type: "module" })` builds Node's kind of worker (or throws on a URL string),
 * so a worker pool created after an ONNX session would break. This module keeps the constructor
 * as it was when the program started: it is imported by every pool, before any session exists.
 * @module
 */

const WebWorker: typeof Worker = globalThis.Worker;

/** Start the ES-module worker at `url` as a Web Worker (inheriting the permissions). */
export function startModuleWorker(url: URL): Worker {
  return new WebWorker(url.href, { type: "module" });
}
