/**
 * A queue that runs async calls one at a time, in the order they were issued: for engines whose
 * calls share buffers or memory (the GPU plans, the fast CPU path's WebAssembly memory).
 * @module
 */

/** Runs each task after every earlier one has settled; a failed task does not stop the queue. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Run `task` once every earlier task has settled; resolves or rejects as `task` does. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(() => task());
    this.#tail = result.catch(() => {});
    return result;
  }
}
