/**
 * The table of WGSL kernels in `kernels/`: per kernel, its binding names (group 0, in binding
 * order: the names of its `var` declarations), its workgroup size and its dispatch; and the one
 * helper that compiles a kernel (shader module, compilation-info check, pipeline creation inside
 * a validation error scope) and builds its bind groups **by binding name**.
 *
 * The binding names here type the host's `{name: buffer}` records; the binding numbers come from
 * the WGSL itself ({@link reflectBindings}) when the kernel is compiled, and compilation throws
 * when the WGSL's names and this table disagree. tests/gpu_reflect.test.ts checks every kernel
 * file against the table without a GPU.
 *
 * Pipelines are compiled once per device and kernel ({@link compileKernel}); a failed build is
 * not cached, so the next caller sees the error again.
 * @module
 */
import { grid2d } from "./buffers.ts";
import { loadKernel } from "./kernel_source.ts";
import {
  type BindingDecl,
  reflectBindings,
  reflectStructs,
  type StructLayout,
} from "./wgsl_reflect.ts";

/** Workgroup counts of one dispatch. */
export type Dispatch = [number, number, number];

/**
 * Sizes the dispatches are computed from; each kernel reads the ones it names. `height` and
 * `width` are the feature map's (the preprocess kernel's: the image's).
 */
export interface Extent {
  channels: number;
  height: number;
  width: number;
  /** T·T values of a patch. */
  area: number;
  /** Complete T×T tiles of the median reference. */
  tiles: number;
  /** rank_matching windows per workgroup ({@link windowsPerGroup}). */
  windowsPerGroup: number;
  /** Values of the upsampled map (outHeight·outWidth). */
  count: number;
}

/** Invocations per rank_matching workgroup (kernels/rank_matching.wgsl WG). */
export const RANK_GROUP = 256;
/** Values reduced per map_stats workgroup (kernels/map_stats.wgsl CHUNK). */
export const MAP_STATS_CHUNK = 4096;
/** Histogram capacity of the hist kernels (MAX_BINS in kernels/stats_hist_*.wgsl). */
export const MAX_BINS = 16;

/** Invocation groups per rank_matching workgroup: whole windows of T·T values, at most 32. */
export function windowsPerGroup(patch: number): number {
  return Math.min(32, Math.floor(RANK_GROUP / (patch * patch)));
}

/** 1-D work of `n` items in workgroups of `size`, as a 2-D grid (kernels bounds-check). */
function grid(n: number, size: number): Dispatch {
  return [...grid2d(Math.ceil(n / size)), 1];
}

type AnySpec = {
  /** Binding names in binding order (group 0). */
  readonly bindings: readonly string[];
  /** `@workgroup_size` of `main`. */
  readonly workgroupSize: readonly [number, number, number];
  /** Module constants the host relies on, with their values (checked against the WGSL). */
  readonly constants?: Readonly<Record<string, number>>;
  readonly dispatch: (extent: never) => Dispatch;
};

/** Every kernel in `kernels/`: binding names, workgroup size and dispatch. */
export const KERNELS = {
  minmax_scale: {
    bindings: ["dims", "features", "scaled", "stats"],
    workgroupSize: [256, 1, 1],
    dispatch: (e: Pick<Extent, "channels">): Dispatch => [e.channels, 1, 1],
  },
  median_reference_rank: {
    bindings: ["dims", "features", "sorted"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "tiles" | "area" | "channels">): Dispatch => [
      Math.ceil((e.tiles * e.area) / 64),
      e.channels,
      1,
    ],
  },
  median_reference_select: {
    bindings: ["dims", "sorted", "reference"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "tiles" | "area" | "channels">): Dispatch => [
      Math.ceil(e.tiles / 64),
      e.area,
      e.channels,
    ],
  },
  reference_tile: {
    bindings: ["dims", "tile", "features", "reference"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "area" | "channels">): Dispatch => [
      Math.ceil(e.area / 64),
      e.channels,
      1,
    ],
  },
  rank_matching: {
    bindings: ["dims", "features", "reference", "weights", "contrib"],
    workgroupSize: [RANK_GROUP, 1, 1],
    constants: { WG: RANK_GROUP },
    dispatch: (e: Pick<Extent, "height" | "width" | "windowsPerGroup">): Dispatch =>
      grid(e.height * e.width, e.windowsPerGroup),
  },
  overlap_add: {
    bindings: ["dims", "contrib", "map"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "height" | "width">): Dispatch => grid(e.height * e.width, 64),
  },
  upsample: {
    bindings: ["dims", "src", "taps", "dst"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "count">): Dispatch => grid(e.count, 64),
  },
  map_stats: {
    bindings: ["dims", "map", "stats"],
    workgroupSize: [256, 1, 1],
    constants: { CHUNK: MAP_STATS_CHUNK },
    dispatch: (e: Pick<Extent, "count">): Dispatch => grid(e.count, MAP_STATS_CHUNK),
  },
  colormap: {
    bindings: ["dims", "map", "lut", "stats", "rgba"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "count">): Dispatch => grid(e.count, 64),
  },
  overlay: {
    bindings: ["dims", "rgba", "image", "rgb"],
    workgroupSize: [64, 1, 1],
    /** One invocation per packed word of 4 RGB8 bytes. */
    dispatch: (e: Pick<Extent, "count">): Dispatch => grid(Math.ceil((3 * e.count) / 4), 64),
  },
  stats_sww_sum: {
    bindings: ["dims", "contrib", "out"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "height" | "width">): Dispatch => grid(e.height * e.width, 64),
  },
  stats_hist_bins: {
    bindings: ["dims", "features", "bins", "binTop"],
    workgroupSize: [256, 1, 1],
    constants: { MAX_BINS },
    dispatch: (e: Pick<Extent, "channels">): Dispatch => [e.channels, 1, 1],
  },
  stats_hist_mean: {
    bindings: ["dims", "bins", "taps", "rep"],
    workgroupSize: [256, 1, 1],
    constants: { MAX_BINS },
    dispatch: (e: Pick<Extent, "channels">): Dispatch => [e.channels, 1, 1],
  },
  stats_hist_emd: {
    bindings: ["dims", "bins", "taps", "rep", "binTop", "out"],
    workgroupSize: [64, 1, 1],
    constants: { MAX_BINS },
    dispatch: (e: Pick<Extent, "height" | "width">): Dispatch => grid(e.height * e.width, 64),
  },
  stats_moments_mean: {
    bindings: ["dims", "features", "taps", "means"],
    workgroupSize: [256, 1, 1],
    dispatch: (e: Pick<Extent, "channels">): Dispatch => [e.channels, 1, 1],
  },
  stats_moments_map: {
    bindings: ["dims", "features", "taps", "means", "out"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "height" | "width">): Dispatch => grid(e.height * e.width, 64),
  },
  fuse_scales: {
    bindings: ["dims", "src", "taps", "dst"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "count">): Dispatch => grid(e.count, 64),
  },
  crop_features: {
    bindings: ["dims", "src", "dst"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "channels" | "height" | "width">): Dispatch =>
      grid(e.channels * e.height * e.width, 64),
  },
  // QFCA (docs/qfca.md; host code src/gpu/qfca_gpu.ts).
  qfca_tile_hist: {
    bindings: ["dims", "features", "tileHist"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "tiles" | "channels">): Dispatch => [
      Math.ceil(e.tiles / 64),
      e.channels,
      1,
    ],
  },
  qfca_reference: {
    bindings: ["dims", "tileHist", "reference"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "area" | "channels">): Dispatch => [
      Math.ceil(e.area / 64),
      e.channels,
      1,
    ],
  },
  qfca_window_errors: {
    bindings: ["dims", "features", "reference", "errors"],
    workgroupSize: [64, 1, 1],
    /** `channels` is the chunk's channel count here. */
    dispatch: (e: Pick<Extent, "height" | "width" | "channels">): Dispatch =>
      grid(e.height * e.width * e.channels, 64),
  },
  qfca_gather: {
    bindings: ["dims", "features", "errors", "weights", "map"],
    workgroupSize: [64, 1, 1],
    dispatch: (e: Pick<Extent, "height" | "width">): Dispatch => grid(e.height * e.width, 64),
  },
  preprocess: {
    bindings: ["params", "rgb", "out"],
    workgroupSize: [16, 16, 1],
    /** One invocation per image pixel (all three channels). */
    dispatch: (e: Pick<Extent, "height" | "width">): Dispatch => [
      Math.ceil(e.width / 16),
      Math.ceil(e.height / 16),
      1,
    ],
  },
} as const satisfies Record<string, AnySpec>;

/** Name of a kernel (its file is `kernels/<name>.wgsl`). */
export type KernelName = keyof typeof KERNELS;
/** Binding names of kernel `K`. */
export type BindingName<K extends KernelName> = (typeof KERNELS)[K]["bindings"][number];
/** A buffer (whole) or a buffer range. */
export type BindingResource = GPUBuffer | GPUBufferBinding;
/** The resources of kernel `K`'s bind group, by binding name. */
export type Bindings<K extends KernelName> = Record<BindingName<K>, BindingResource>;
/** What kernel `K`'s dispatch is computed from. */
export type DispatchOf<K extends KernelName> = Parameters<(typeof KERNELS)[K]["dispatch"]>[0];

/** Every kernel name, in table order. */
export const KERNEL_NAMES = Object.keys(KERNELS) as KernelName[];

/** Workgroup counts of kernel `name` for `extent`. */
export function dispatchOf<K extends KernelName>(name: K, extent: DispatchOf<K>): Dispatch {
  return (KERNELS[name].dispatch as (e: DispatchOf<K>) => Dispatch)(extent);
}

/** A compiled kernel with what was reflected from its WGSL. */
export interface CompiledKernel<K extends KernelName = KernelName> {
  name: K;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** The `@group(0) @binding(n) var` declarations, by binding number. */
  bindings: BindingDecl[];
  /** The structs of the expanded source (e.g. the `Dims` uniform), by name. */
  structs: Map<string, StructLayout>;
}

const compiled = new WeakMap<GPUDevice, Map<KernelName, Promise<CompiledKernel>>>();

/** Kernel `name` compiled for `device`: once per device and kernel, shared afterwards. */
export function compileKernel<K extends KernelName>(
  device: GPUDevice,
  name: K,
): Promise<CompiledKernel<K>> {
  let perDevice = compiled.get(device);
  if (!perDevice) compiled.set(device, perDevice = new Map());
  let hit = perDevice.get(name);
  if (!hit) {
    hit = build(device, name);
    perDevice.set(name, hit);
    hit.catch(() => perDevice.delete(name));
  }
  return hit as Promise<CompiledKernel<K>>;
}

/** Compile `names` for `device` (in parallel); throws the first kernel's one-line error. */
export async function compileKernels<K extends KernelName>(
  device: GPUDevice,
  names: readonly K[],
): Promise<Record<K, CompiledKernel<K>>> {
  const all = await Promise.all(names.map((n) => compileKernel(device, n)));
  return Object.fromEntries(all.map((k) => [k.name, k])) as Record<K, CompiledKernel<K>>;
}

/**
 * The bind group of `kernel` over `resources` by binding name; throws when a binding of the
 * WGSL has no resource or a resource names no binding.
 */
export function createBindGroup<K extends KernelName>(
  device: GPUDevice,
  kernel: CompiledKernel<K>,
  resources: Bindings<K>,
): GPUBindGroup {
  return device.createBindGroup({
    label: kernel.name,
    layout: kernel.layout,
    entries: bindGroupEntries(kernel.name, kernel.bindings, resources),
  });
}

/** Bind-group entries of group 0 of `decls` from `resources` by name (see createBindGroup). */
export function bindGroupEntries(
  kernel: string,
  decls: readonly BindingDecl[],
  resources: Readonly<Record<string, BindingResource>>,
): GPUBindGroupEntry[] {
  const group = decls.filter((d) => d.group === 0);
  const names = new Set(group.map((d) => d.name));
  const unknown = Object.keys(resources).filter((n) => !names.has(n));
  if (unknown.length > 0) {
    throw new Error(
      `kernels/${kernel}.wgsl has no binding ${unknown.join(", ")} ` +
        `(bindings: ${[...names].join(", ")})`,
    );
  }
  return group.map((d) => {
    const r = resources[d.name];
    if (r === undefined) {
      throw new Error(`kernels/${kernel}.wgsl: binding ${d.binding} '${d.name}' has no buffer`);
    }
    return { binding: d.binding, resource: "buffer" in r ? r : { buffer: r } };
  });
}

/** Throw unless the group-0 names declared in the WGSL equal the table's, in binding order. */
export function checkBindingNames(name: KernelName, decls: readonly BindingDecl[]): void {
  const declared = decls.filter((d) => d.group === 0).map((d) => d.name);
  const table: readonly string[] = KERNELS[name].bindings;
  if (declared.join() !== table.join()) {
    throw new Error(
      `kernels/${name}.wgsl declares bindings [${declared.join(", ")}] but src/gpu/kernels.ts ` +
        `lists [${table.join(", ")}]`,
    );
  }
}

async function build<K extends KernelName>(device: GPUDevice, name: K): Promise<CompiledKernel<K>> {
  const code = await loadKernel(name);
  const bindings = reflectBindings(code);
  checkBindingNames(name, bindings);
  const structs = reflectStructs(code);
  // No await between push and pop: the scope holds this kernel's errors only.
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ label: name, code });
  const pipeline = device.createComputePipelineAsync({
    label: name,
    layout: "auto",
    compute: { module, entryPoint: "main" },
  }).then((p) => p, (e: unknown) => e instanceof Error ? e : new Error(String(e)));
  const scope = device.popErrorScope();
  const bad = (await module.getCompilationInfo()).messages.find((m) => m.type === "error");
  const [built, error] = await Promise.all([pipeline, scope]);
  if (bad) {
    throw new Error(
      `kernels/${name}.wgsl does not compile: line ${bad.lineNum}: ${firstLine(bad.message)}`,
    );
  }
  if (built instanceof Error) {
    throw new Error(`kernels/${name}.wgsl: pipeline creation failed: ${firstLine(built.message)}`);
  }
  if (error) {
    throw new Error(`kernels/${name}.wgsl: pipeline creation failed: ${firstLine(error.message)}`);
  }
  return { name, pipeline: built, layout: built.getBindGroupLayout(0), bindings, structs };
}

function firstLine(message: string): string {
  return message.trim().split("\n")[0];
}
