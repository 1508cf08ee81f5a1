/**
 * "channel: 41200/100000 round trips" on stderr, at most a few times a second, so long runs show
 * they are alive without the printing costing anything measurable. Silent for short runs.
 */
export class ProgressReporter {
  readonly #label: string;
  readonly #total: number;
  readonly #intervalMs: number;
  readonly #out: NodeJS.WritableStream;
  readonly #startedAt = performance.now();
  #lastPrintAt: number;
  #printed = false;

  constructor(label: string, total: number, out: NodeJS.WritableStream = process.stderr, intervalMs = 500) {
    this.#label = label;
    this.#total = total;
    this.#out = out;
    this.#intervalMs = intervalMs;
    this.#lastPrintAt = this.#startedAt;
  }

  /** Cheap enough to call every iteration: one clock read every 1024 calls. */
  update(done: number): void {
    if ((done & 1023) !== 0) return;
    const now = performance.now();
    if (now - this.#lastPrintAt < this.#intervalMs) return;
    this.#lastPrintAt = now;
    this.#printed = true;
    const percent = ((100 * done) / this.#total).toFixed(0);
    this.#out.write(`${this.#label}: ${done}/${this.#total} (${percent}%)\n`);
  }

  /** Final line, only if progress was shown at all. */
  finish(done: number): void {
    if (this.#printed) this.#out.write(`${this.#label}: ${done}/${this.#total} done\n`);
  }
}
