/**
 * Admission and turn-taking for detection requests: at most `capacity` requests wait while one
 * detects; a request beyond that is refused at once (HTTP 503), and a waiting request can give up
 * its place (timeout, client gone).
 * @module
 */

/** Raised when a request gave up waiting (its signal fired); `reason` is the signal's. */
export class Abandoned extends Error {}

/** A request admitted by {@link Admission.admit}: take the detector in turn, then leave. */
export interface Ticket {
  /** Wait until the detector is free; rejects with {@link Abandoned} when `signal` fires first. */
  turn(signal?: AbortSignal): Promise<void>;
  /** Give the detector back (the request goes on answering). Idempotent. */
  done(): void;
  /** Leave: give the detector (or the place in line) back and end the admission. Idempotent. */
  leave(): void;
}

/** A bounded line in front of one detector. */
export class Admission {
  #admitted = 0;
  #busy = false;
  #line: { go: () => void }[] = [];

  /** `capacity`: requests that may wait besides the one detecting. */
  constructor(readonly capacity: number) {}

  /** Requests admitted and not finished (decoding, waiting, detecting or answering). */
  get inFlight(): number {
    return this.#admitted;
  }

  /** Requests waiting for the detector. */
  get depth(): number {
    return this.#line.length;
  }

  /** A ticket, or undefined when the line is full. */
  admit(): Ticket | undefined {
    if (this.#admitted >= this.capacity + 1) return undefined;
    this.#admitted++;
    let holding = false, left = false;
    let entry: { go: () => void } | undefined;
    const ticket: Ticket = {
      turn: (signal) => {
        if (left) return Promise.reject(new Abandoned("left"));
        if (!this.#busy) {
          this.#busy = holding = true;
          return Promise.resolve();
        }
        return new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            const i = entry ? this.#line.indexOf(entry) : -1;
            if (i >= 0) this.#line.splice(i, 1);
            reject(new Abandoned(String(signal?.reason ?? "aborted")));
          };
          if (signal?.aborted) return onAbort();
          entry = {
            go: () => {
              signal?.removeEventListener("abort", onAbort);
              holding = true;
              resolve();
            },
          };
          this.#line.push(entry);
          signal?.addEventListener("abort", onAbort, { once: true });
        });
      },
      done: () => {
        if (holding) {
          holding = false;
          const next = this.#line.shift();
          if (next) next.go();
          else this.#busy = false;
        } else if (entry) {
          const i = this.#line.indexOf(entry);
          if (i >= 0) this.#line.splice(i, 1);
          entry = undefined;
        }
      },
      leave: () => {
        if (left) return;
        left = true;
        this.#admitted--;
        ticket.done();
      },
    };
    return ticket;
  }
}
