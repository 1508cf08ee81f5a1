/**
 * A counting semaphore with a FIFO queue: at most `max` holders at once. Used to keep xenipc's
 * own use of a shared per-connection (or per-domain) quota below that quota, and to make a
 * multi-step allocation atomic with respect to the other users in this process (max = 1).
 */
export interface SlotClaim {
  /** Resolves once the slot is ours. */
  readonly ready: Promise<void>;
  /** Give the slot back, or stop waiting for it. Idempotent. */
  release(): void;
}

export class AsyncSlots {
  #free: number;
  readonly #queue: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`slot count ${String(max)} must be an integer >= 1`);
    this.#free = max;
  }

  /** Holders now (for tests and diagnostics). */
  get held(): number {
    return this.max - this.#free;
  }

  claim(): SlotClaim {
    let granted = false;
    let done = false;
    let grant: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      grant = () => {
        granted = true;
        resolve();
      };
    });
    if (this.#free > 0 && this.#queue.length === 0) {
      this.#free--;
      grant();
    } else {
      this.#queue.push(grant);
    }
    return {
      ready,
      release: () => {
        if (done) return;
        done = true;
        if (!granted) {
          // Still queued (grants happen synchronously in release()): just leave the queue.
          const index = this.#queue.indexOf(grant);
          if (index >= 0) this.#queue.splice(index, 1);
          return;
        }
        const next = this.#queue.shift();
        if (next !== undefined) next();
        else this.#free++;
      },
    };
  }

  /** Run `fn` holding one slot. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const claim = this.claim();
    try {
      await claim.ready;
      return await fn();
    } finally {
      claim.release();
    }
  }
}
