/**
 * Worker of the fast CPU QFCA: each message is a {@link QfcaTask} (features in a
 * SharedArrayBuffer), answered with `{ acc }` (its channels' sum, transferred) or `{ error }`.
 * @module
 */
/// <reference lib="deno.worker" />
import { qfcaChannels, type QfcaTask } from "./qfca_kernel.ts";

self.onmessage = (e: MessageEvent<QfcaTask>) => {
  try {
    const acc = qfcaChannels(e.data);
    self.postMessage({ acc }, [acc.buffer as ArrayBuffer]);
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
