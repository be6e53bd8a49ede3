/**
 * Worker of the fast CPU QFCA. First message: `{ init: { module, memory, index } }` (instantiates
 * the kernel over the shared memory); then one `{ job }` per call, answered with `{ ok: true }` or
 * `{ error }` once no task is left.
 * @module
 */
/// <reference lib="deno.worker" />
import { instantiateQfcaKernel, type QfcaJob, type QfcaKernel, runQfcaJob } from "./qfca_kernel.ts";

interface Init {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  index: number;
}

let state: { kernel: QfcaKernel; memory: WebAssembly.Memory; index: number } | null = null;

self.onmessage = (e: MessageEvent<{ init?: Init; job?: QfcaJob }>) => {
  try {
    const { init, job } = e.data;
    if (init) {
      state = {
        kernel: instantiateQfcaKernel(init.module, init.memory),
        memory: init.memory,
        index: init.index,
      };
      self.postMessage({ ok: true });
    } else if (job && state) {
      runQfcaJob(state.kernel, state.index, state.memory.buffer, job);
      self.postMessage({ ok: true });
    } else throw new Error("job before init");
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
