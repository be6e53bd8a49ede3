/**
 * The process's one WebGPU device, and the choice between the webgpu and cpu backends.
 *
 * Every GPU stage (our kernels and onnxruntime-web's WebGPU EP) runs on the device returned by
 * {@link acquireGpu}, so buffers pass between them without copies. The adapter and the device are
 * requested once per process; later calls get the same promise.
 * @module
 */
import type { BackendChoice } from "../design.ts";

/** The shared device and what the adapter says about itself. */
export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** Human-readable adapter name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) [vendor 65541]". */
  description: string;
  /** True for a software rasteriser (llvmpipe, lavapipe, SwiftShader, WARP) or a fallback adapter. */
  isFallback: boolean;
}

/** The subset of `GPUAdapterInfo` the backend decision looks at (Deno adds `isFallbackAdapter`). */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** The backend decision and why it was made (printed with the results). */
export interface BackendDecision {
  backend: "webgpu" | "cpu";
  reason: string;
}

/** Limits raised to the adapter's maximum: large images need big storage buffers, and ORT sizes its
 * workgroups from the device limits. */
const MAX_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
] as const;

/** Optional features enabled when offered: GPU timing for benches, f16 and subgroups for ORT. */
const WANTED_FEATURES: GPUFeatureName[] = [
  "timestamp-query",
  "shader-f16",
  "subgroups" as GPUFeatureName,
];

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render|\bwarp\b/i;

/** Whether the adapter is a software implementation (by flag or by its well-known names). */
export function isSoftwareAdapter(info: AdapterFacts): boolean {
  if (info.isFallbackAdapter === true) return true;
  const text = [info.vendor, info.architecture, info.device, info.description].join(" ");
  return SOFTWARE_NAMES.test(text);
}

/** One-line adapter name from its info fields, skipping empty ones. */
export function describeAdapter(info: AdapterFacts): string {
  const name = info.description || info.device || "unknown adapter";
  const extra = [
    info.vendor ? `vendor ${info.vendor}` : "",
    info.architecture ? `arch ${info.architecture}` : "",
  ].filter((s) => s !== "");
  return extra.length > 0 ? `${name} [${extra.join(", ")}]` : name;
}

/**
 * The backend decision as a pure function of the request and the adapter (null: none).
 * `auto` takes webgpu only on a hardware adapter; a forced `webgpu` accepts a software adapter
 * (that is how the GPU tests run on llvmpipe) but throws when there is no adapter at all.
 */
export function decideBackend(
  requested: BackendChoice,
  adapter: AdapterFacts | null,
): BackendDecision {
  if (requested === "cpu") return { backend: "cpu", reason: "requested" };
  if (adapter === null) {
    if (requested === "webgpu") {
      throw new Error("--backend webgpu: no WebGPU adapter available");
    }
    return { backend: "cpu", reason: "no WebGPU adapter" };
  }
  const name = describeAdapter(adapter);
  const software = isSoftwareAdapter(adapter);
  if (requested === "webgpu") {
    return {
      backend: "webgpu",
      reason: software ? `requested (software adapter ${name})` : "requested",
    };
  }
  return software
    ? { backend: "cpu", reason: `software adapter ${name}` }
    : { backend: "webgpu", reason: `hardware adapter ${name}` };
}

let adapterPromise: Promise<GPUAdapter | null> | undefined;
let gpuPromise: Promise<GpuContext | null> | undefined;

/** The high-performance adapter, requested once; null when WebGPU is absent or offers none. */
/**
 * Mesa's window-system probing prints "XDG_RUNTIME_DIR is invalid" to stderr when the variable is
 * unset (headless servers, CI). Point it at a private folder so every error line stays ours.
 */
function quietMesa(): void {
  if (typeof Deno === "undefined") return; // a browser: its adapter is not ours to quiet
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR")) return;
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    const dir = `${tmp}/fca-runtime-${Deno.uid() ?? 0}`; // one per user, reused across runs
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // No env or write permission: the message is only noise.
  }
}

function requestAdapterOnce(): Promise<GPUAdapter | null> {
  adapterPromise ??= (async () => {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) return null;
    quietMesa();
    try {
      return await gpu.requestAdapter({ powerPreference: "high-performance" });
    } catch {
      return null;
    }
  })();
  return adapterPromise;
}

function adapterFacts(adapter: GPUAdapter): AdapterFacts {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter ?? legacy,
  };
}

/**
 * The process's GPU device, or null when there is no adapter (or, with `allowFallback: false`,
 * only a software one). The device is created once, with the adapter's maximum buffer and
 * workgroup limits and the optional features it offers; losing it is logged to stderr.
 */
export async function acquireGpu(
  opts: { allowFallback?: boolean } = {},
): Promise<GpuContext | null> {
  const adapter = await requestAdapterOnce();
  if (adapter === null) return null;
  const facts = adapterFacts(adapter);
  if (opts.allowFallback === false && isSoftwareAdapter(facts)) return null;
  gpuPromise ??= createDevice(adapter, facts);
  return await gpuPromise;
}

async function createDevice(adapter: GPUAdapter, facts: AdapterFacts): Promise<GpuContext> {
  const requiredLimits: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, number | undefined>;
  for (const name of MAX_LIMITS) {
    const value = limits[name];
    if (typeof value === "number") requiredLimits[name] = value;
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const description = describeAdapter(facts);
  device.lost.then((info) => {
    // An explicit destroy() is not news; anything else means every later GPU call fails.
    if (info.reason !== "destroyed") {
      console.error(`fca: GPU device lost on ${description}: ${info.message || info.reason}`);
    }
  });
  return { device, adapter, description, isFallback: isSoftwareAdapter(facts) };
}

/**
 * Resolve `--backend`: the decision of {@link decideBackend} for this machine's adapter, plus the
 * shared device when the answer is webgpu. Throws one line for a forced webgpu without an adapter.
 */
export async function chooseBackend(
  requested: BackendChoice,
): Promise<BackendDecision & { gpu: GpuContext | null }> {
  if (requested === "cpu") return { ...decideBackend("cpu", null), gpu: null };
  const adapter = await requestAdapterOnce();
  const decision = decideBackend(requested, adapter === null ? null : adapterFacts(adapter));
  if (decision.backend === "cpu") return { ...decision, gpu: null };
  const gpu = await acquireGpu();
  if (gpu === null) throw new Error("--backend webgpu: no WebGPU adapter available");
  return { ...decision, gpu };
}
