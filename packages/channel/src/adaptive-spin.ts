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
 * With `backoff`, the first probe comes at the next wait and each failed one doubles the gap up
 * to `reprobeEvery`: a single failure (a GC, a page fault, JIT work in the peer) then costs one
 * wait, not `reprobeEvery` of them, while a peer that cannot be caught is probed as rarely as
 * before after a few failures.
 * With `yieldCpu`, a spin that has run `yieldAfterMs` calls it between its checks from then on
 * (sched_yield): a peer that shares our CPU then runs instead of waiting for our spin to end.
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
  /** With no budget left, probe at the next wait, then after 1, 3, 7, ... waits (each failed
   * probe doubles the gap, up to `reprobeEvery`; a success starts over), instead of always
   * every `reprobeEvery`-th wait. */
  backoff?: boolean;
  /** Gives the CPU to another runnable thread (sched_yield; see @xenipc/core's loadCpuYield). */
  yieldCpu?: () => void;
  /** How long a spin runs before it calls `yieldCpu` between checks (ms; default 0). */
  yieldAfterMs?: number;
}

export class AdaptiveSpin {
  private readonly fullMs: number;
  private readonly reprobeEvery: number;
  private readonly halveOnFailure: boolean;
  private readonly backoff: boolean;
  private readonly yieldCpu: (() => void) | undefined;
  private readonly yieldAfterMs: number;
  private budgetMs: number;
  private skips = 0;
  /** Waits between probes while the budget is spent (reprobeEvery without backoff). */
  private probeEvery: number;

  constructor(options: AdaptiveSpinOptions) {
    this.fullMs = options.fullMs;
    this.reprobeEvery = options.reprobeEvery;
    this.halveOnFailure = options.halveOnFailure;
    this.budgetMs = options.fullMs;
    this.backoff = options.backoff === true;
    this.probeEvery = this.backoff ? 1 : options.reprobeEvery;
    this.yieldCpu = options.yieldCpu;
    this.yieldAfterMs = options.yieldAfterMs ?? 0;
  }

  /** Spin until `ready()` or the budget runs out; true if it became ready. */
  run(ready: () => boolean): boolean {
    let budget = this.budgetMs;
    const probing = budget === 0;
    if (probing) {
      if (++this.skips < this.probeEvery) return false;
      this.skips = 0;
      budget = this.fullMs;
    }
    const start = performance.now();
    const deadline = start + budget;
    const yieldCpu = this.yieldCpu;
    const yieldAt = yieldCpu === undefined ? Infinity : start + this.yieldAfterMs;
    let now: number;
    do {
      for (let i = 0; i < CHECKS_PER_CLOCK_READ; i++) {
        if (ready()) return this.paid();
      }
      now = performance.now();
      if (now >= yieldAt) (yieldCpu as () => void)();
    } while (now < deadline);
    if (ready()) return this.paid();
    this.budgetMs = probing || !this.halveOnFailure || budget / 2 < MIN_SPIN_MS ? 0 : budget / 2;
    if (probing && this.backoff) this.probeEvery = Math.min(this.probeEvery * 2, this.reprobeEvery);
    return false;
  }

  private paid(): true {
    this.budgetMs = this.fullMs;
    if (this.backoff) this.probeEvery = 1;
    return true;
  }

  /** Spinning paid off elsewhere (the peer answers fast again): back to the full budget. */
  refill(): void {
    this.budgetMs = this.fullMs;
  }
}
