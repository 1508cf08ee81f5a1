/**
 * A spin (re-checking a condition, blocking the thread) whose budget adapts to whether spinning
 * pays: it starts at the full budget, halves after every spin that found nothing (the peer is
 * slow, or the CPUs are busy and spinning would only steal its time) down to none, and goes
 * back to full after a spin that paid off. With no budget left, every `reprobeEvery`-th wait
 * probes with the FULL budget (and goes back to none if that fails). A short probe cannot work
 * in a request/response exchange where both sides have stopped spinning: the answer to our
 * request then needs the peer's event wake-up, which takes longer than a short probe; a
 * full-length one catches it, so the exchange costs one wake-up instead of two, and the peer's
 * own probe then finds us answering fast. Cost when spinning cannot pay: one full spin per
 * `reprobeEvery` + 1 waits. (`halveOnFailure: false` drops to none after one failure.)
 */

/** Below this a spin is not worth its clock reads (ms). */
const MIN_SPIN_MS = 0.001;
/** Checks between two clock reads: a check is one load, a clock read costs more. */
const CHECKS_PER_CLOCK_READ = 8;

export interface AdaptiveSpinOptions {
  /** The longest spin (ms, > 0). */
  fullMs: number;
  /** With no budget left, every this many-th wait probes with the full budget. */
  reprobeEvery: number;
  /** After a spin that found nothing: halve the budget (true) or go straight to none (false). */
  halveOnFailure: boolean;
}

export class AdaptiveSpin {
  private readonly fullMs: number;
  private readonly reprobeEvery: number;
  private readonly halveOnFailure: boolean;
  private budgetMs: number;
  private skips = 0;

  constructor(options: AdaptiveSpinOptions) {
    this.fullMs = options.fullMs;
    this.reprobeEvery = options.reprobeEvery;
    this.halveOnFailure = options.halveOnFailure;
    this.budgetMs = options.fullMs;
  }

  /** Spin until `ready()` or the budget runs out; true if it became ready. */
  run(ready: () => boolean): boolean {
    let budget = this.budgetMs;
    const probing = budget === 0;
    if (probing) {
      if (++this.skips < this.reprobeEvery) return false;
      this.skips = 0;
      budget = this.fullMs;
    }
    const deadline = performance.now() + budget;
    do {
      for (let i = 0; i < CHECKS_PER_CLOCK_READ; i++) {
        if (ready()) {
          this.budgetMs = this.fullMs;
          return true;
        }
      }
    } while (performance.now() < deadline);
    if (ready()) {
      this.budgetMs = this.fullMs;
      return true;
    }
    this.budgetMs = probing || !this.halveOnFailure || budget / 2 < MIN_SPIN_MS ? 0 : budget / 2;
    return false;
  }

  /** Spinning paid off elsewhere (the peer answers fast again): back to the full budget. */
  refill(): void {
    this.budgetMs = this.fullMs;
  }
}
