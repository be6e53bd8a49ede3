/**
 * Worker of the fast CPU FCA. First message: `{ init: { module, memory, index, wasm } }`
 * (instantiates the kernel over the shared memory); then one `{ job }` per phase, answered with
 * `{ ok: true }` or `{ error }` once no task is left.
 * @module
 */
/// <reference lib="deno.worker" />
import { instantiateKernel } from "./kernel.ts";
import { type Job, ThreadState } from "./tasks.ts";

interface Init {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  index: number;
  wasm: boolean;
}

let state: ThreadState | null = null;
let memory: WebAssembly.Memory | null = null;

self.onmessage = (e: MessageEvent<{ init?: Init; job?: Job }>) => {
  try {
    const { init, job } = e.data;
    if (init) {
      memory = init.memory;
      state = new ThreadState(
        init.index,
        init.wasm ? instantiateKernel(init.module, memory) : null,
      );
      self.postMessage({ ok: true });
    } else if (job && state && memory) {
      state.run(memory.buffer, job);
      self.postMessage({ ok: true });
    } else throw new Error("job before init");
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
