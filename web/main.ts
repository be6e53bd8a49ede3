/// <reference lib="dom" />
/**
 * The browser app's page: load the model (the serving origin's, the last one kept in this
 * browser, or a file the user chooses), then detect anomalies in the images picked or dropped,
 * showing overlay, heatmap, mask, regions and milliseconds per stage, with downloads of the map
 * (`.npy`) and the pictures (`.png`). For automation it sets `globalThis.fcaReady` (resolves
 * once the model is loaded) and `globalThis.fcaDetect(bytes, options)`.
 * @module
 */
import type { Detection } from "../src/pipeline/detector.ts";
import { download, pictures } from "./render.ts";
import { type PageDetection, requireWebGpu, WebEngine, WebGpuMissing } from "./engine.ts";
import { fileModel, ModelStore, originModel, type PageModel } from "./model_store.ts";
import { optionsFromQuery, resolveOptions, type WebDetectOptions } from "./options.ts";
import type { OutputKind } from "../src/io/outputs.ts";

/** What `fcaDetect` resolves to (the map at the image's size, row-major). */
export interface FcaDetectResult {
  width: number;
  height: number;
  score: number;
  map: Float32Array;
  /** Milliseconds per stage (decode, the detector's stages, decide). */
  timings: Record<string, number>;
  /** Threshold, verdict and regions, as the CLI prints them. */
  decision: PageDetection["decision"];
  /** The working size and patch the image ran at. */
  used?: Detection["used"];
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
/** The app's folder: its kernels, wasm files and model.json sit beside this script. */
const ASSETS = new URL("./", import.meta.url);
const PAGE = new URL("./", location.href);

let engine: WebEngine | undefined;
let last: { detection: PageDetection; name: string; bytes: Uint8Array } | undefined;
let addressOptions: WebDetectOptions = {};

function setStatus(text: string, error = false): void {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

function oneLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split("\n")[0];
}

// ---------------------------------------------------------------------------------------------
// Model

let chooseModel: ((m: PageModel) => void) | undefined;

function describeModel(m: PageModel): string {
  const from = { origin: "from this site", cache: "kept in this browser", file: "chosen file" }[
    m.from
  ];
  const sha = m.sha256 ? `, sha256 ${m.sha256.slice(0, 12)}…` : "";
  return `Model: ${m.name} (${(m.bytes.length / 1048576).toFixed(1)} MiB, ${from}${sha})`;
}

/** The origin's model, else the last one kept, else the one the user chooses. */
async function firstModel(store: ModelStore): Promise<PageModel> {
  const fromOrigin = await originModel(PAGE, store, (loaded, total) => {
    $("model").textContent = `Model: downloading ${Math.floor((100 * loaded) / total)}%…`;
  });
  if (fromOrigin) return fromOrigin;
  const kept = await store.last();
  if (kept) return kept;
  $("model").textContent = "Model: none yet. Choose the ONNX backbone file " +
    "(e.g. resnet50v2-stage2.onnx)" + (store.persistent ? "; this browser keeps it." : ".");
  setStatus("Waiting for a model file.");
  return await new Promise((resolve) => chooseModel = resolve);
}

/** Build the engine for `model`, replacing the current one. */
async function useModel(model: PageModel): Promise<WebEngine> {
  $("model").textContent = `${describeModel(model)}: starting…`;
  setStatus("Compiling the kernels and loading the model on the GPU…");
  const next = await WebEngine.create(model, ASSETS, addressOptions);
  const previous = engine;
  engine = next;
  await previous?.dispose();
  $("model").textContent = describeModel(model);
  $("adapter").textContent = next.adapter;
  setStatus(last ? "Ready." : "Ready: choose or drop an image.");
  return next;
}

function setupModelChooser(store: ModelStore): void {
  $<HTMLInputElement>("model-file").addEventListener("change", async (ev) => {
    const input = ev.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    try {
      const model = await fileModel(new Uint8Array(await file.arrayBuffer()), file.name, store);
      if (chooseModel) {
        const resolve = chooseModel;
        chooseModel = undefined;
        resolve(model);
      } else {
        await useModel(model);
        if (last) await run(last.bytes, last.name);
      }
    } catch (err) {
      setStatus(`${file.name}: ${oneLine(err)}`, true);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Options

/** The options of the form, over those of the page's address. */
function formOptions(): WebDetectOptions {
  const out: Record<string, unknown> = { ...addressOptions };
  const text = (id: string) => $<HTMLInputElement>(id).value.trim();
  out.preset = $<HTMLSelectElement>("preset").value;
  const size = text("size");
  if (size !== "") out.size = /^\d+$/.test(size) ? Number(size) : size;
  else delete out.size;
  const threshold = text("threshold");
  if (threshold !== "") out.threshold = Number(threshold);
  else delete out.threshold;
  for (const [id, name] of [["min-area", "minArea"], ["border", "border"]]) {
    if (text(id) !== "") out[name] = Number(text(id));
  }
  return out as WebDetectOptions;
}

/** Fill the form from the address's options (defaults from the design table). */
function fillForm(): void {
  const r = resolveOptions(addressOptions);
  $<HTMLSelectElement>("preset").value = r.settings.preset;
  $<HTMLInputElement>("size").value = String(r.settings.size);
  $<HTMLInputElement>("threshold").value = r.decision.threshold === undefined
    ? ""
    : String(r.decision.threshold);
  $<HTMLInputElement>("min-area").value = String(r.decision.minArea);
  $<HTMLInputElement>("border").value = String(r.decision.border);
}

function setupForm(): void {
  const form = $<HTMLFormElement>("options");
  form.addEventListener("submit", (ev) => ev.preventDefault());
  form.addEventListener("change", async (ev) => {
    if (!last || !engine) return;
    const name = (ev.target as HTMLInputElement).name;
    let options: WebDetectOptions;
    try {
      options = formOptions();
      resolveOptions(options);
    } catch (err) {
      setStatus(oneLine(err), true);
      return;
    }
    if (name === "preset" || name === "size") {
      await run(last.bytes, last.name); // another working size: detect again
      return;
    }
    // A decision option: decide again from the map already there, no new detection.
    const t = performance.now();
    const r = resolveOptions(options);
    const d = last.detection;
    const decided = engine.decide(d.map, d, r.decision);
    last.detection = {
      ...d,
      ...decided,
      options: r,
      timings: { ...d.timings, decide: performance.now() - t },
    };
    show(last.detection, last.name);
  });
}

// ---------------------------------------------------------------------------------------------
// Detection and display

async function run(bytes: Uint8Array, name: string): Promise<void> {
  if (!engine) {
    setStatus("The model is not loaded yet.", true);
    return;
  }
  let options: WebDetectOptions;
  try {
    options = formOptions();
  } catch (err) {
    setStatus(oneLine(err), true);
    return;
  }
  setStatus(`Detecting anomalies in ${name}…`);
  $("drop").setAttribute("aria-disabled", "true");
  try {
    const detection = await engine.detect(bytes, options, name);
    last = { detection, name, bytes };
    show(detection, name);
  } catch (err) {
    const message = oneLine(err);
    setStatus(message.startsWith(`${name}:`) ? message : `${name}: ${message}`, true);
  } finally {
    $("drop").removeAttribute("aria-disabled");
  }
}

function draw(
  id: string,
  p: { width: number; height: number; data: Uint8ClampedArray<ArrayBuffer> },
) {
  const canvas = $<HTMLCanvasElement>(id);
  canvas.width = p.width;
  canvas.height = p.height;
  canvas.getContext("2d")!.putImageData(new ImageData(p.data, p.width, p.height), 0, 0);
}

function show(d: PageDetection, name: string): void {
  const t = performance.now();
  const pics = pictures(d);
  draw("overlay", pics.overlay);
  draw("heatmap", pics.heatmap);
  draw("mask", pics.mask);
  const timings = { ...d.timings, render: performance.now() - t };
  const dec = d.decision;
  $("score").textContent = d.score.toFixed(4);
  $("verdict").textContent = `${dec.verdict} (threshold ${+dec.threshold.value.toFixed(4)}, ` +
    `${dec.threshold.source}; normalised score ${dec.score_normalized.toFixed(2)})`;
  $("regions").textContent = dec.regions.length === 0
    ? "none"
    : dec.regions.map((r) =>
      `${r.bbox.width}×${r.bbox.height} at (${r.bbox.x}, ${r.bbox.y}), ${r.area} px, peak ${
        r.peak.toFixed(4)
      }`
    ).join("; ") + (dec.regions_omitted ? ` and ${dec.regions_omitted} more` : "");
  const used = d.detection.used;
  $("size-used").textContent = `${d.width}×${d.height}` +
    (used
      ? ` (worked at ${
        (used.scales ?? [used]).map((u) => `${u.width}×${u.height}`).join(" and ")
      }, patch ${used.patch})`
      : "");
  const body = $("timings").querySelector("tbody")!;
  body.replaceChildren(
    ...Object.entries(timings).map(([stage, ms]) => {
      const tr = document.createElement("tr");
      const a = document.createElement("td"), b = document.createElement("td");
      a.textContent = stage;
      b.textContent = ms.toFixed(1);
      tr.append(a, b);
      return tr;
    }),
  );
  $("result").hidden = false;
  const total = Object.values(d.timings).reduce((s, v) => s + v, 0);
  setStatus(
    `${name}: score ${d.score.toFixed(4)}, ${dec.verdict}, ${(total / 1000).toFixed(1)} s.`,
  );
}

function setupDownloads(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>("[data-download]")) {
    button.addEventListener("click", () => {
      if (!last) return;
      const file = download(button.dataset.download as OutputKind, last.detection, last.name);
      const url = URL.createObjectURL(
        new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.type }),
      );
      const a = document.createElement("a");
      a.href = url;
      a.download = file.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  }
}

function setupDrop(): void {
  const drop = $("drop"), input = $<HTMLInputElement>("file");
  const take = async (file: File | undefined) => {
    if (!file) return;
    if (file.type !== "" && !/^image\/(png|jpeg)$/.test(file.type)) {
      setStatus(`${file.name}: only PNG and JPEG images are read (got ${file.type}).`, true);
      return;
    }
    await run(new Uint8Array(await file.arrayBuffer()), file.name);
  };
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      input.click();
    }
  });
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    input.value = "";
    take(file);
  });
  drop.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    take(ev.dataTransfer?.files[0]);
  });
}

// ---------------------------------------------------------------------------------------------
// Start

async function start(): Promise<void> {
  addressOptions = optionsFromQuery(new URLSearchParams(location.search));
  fillForm();
  setupForm();
  setupDrop();
  setupDownloads();
  await requireWebGpu(); // before downloading a model that could not run
  const store = await ModelStore.open(PAGE);
  setupModelChooser(store);
  let model = await firstModel(store);
  for (;;) {
    try {
      await useModel(model);
      return;
    } catch (err) {
      if (err instanceof WebGpuMissing || model.from === "origin") throw err;
      // A kept or chosen file that does not load: say so and wait for another.
      setStatus(`${model.name}: ${oneLine(err)}`, true);
      $("model").textContent = "Model: choose another ONNX file.";
      model = await new Promise((resolve) => chooseModel = resolve);
    }
  }
}

const ready = start().catch((err) => {
  const message = oneLine(err);
  if (err instanceof WebGpuMissing) {
    $("gpu").textContent = message;
    $("gpu").hidden = false;
    $("drop").setAttribute("aria-disabled", "true");
    $("model").textContent = "Model: not loaded (no WebGPU).";
  }
  setStatus(message, true);
  throw err;
});
ready.catch(() => {}); // reported on the page; callers of fcaReady see the rejection

const g = globalThis as unknown as {
  fcaReady: Promise<void>;
  fcaDetect: (bytes: Uint8Array, options?: WebDetectOptions) => Promise<FcaDetectResult>;
};
g.fcaReady = ready;
g.fcaDetect = async (bytes, options = {}) => {
  await ready;
  const d = await engine!.detect(bytes, options);
  return {
    width: d.width,
    height: d.height,
    score: d.score,
    map: d.map,
    timings: d.timings,
    decision: d.decision,
    ...(d.detection.used ? { used: d.detection.used } : {}),
  };
};
