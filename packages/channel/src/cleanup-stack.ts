/**
 * What an endpoint has acquired so far while it is being built (a bound port, a grant, a
 * mapping, a xenstore entry), released newest first if building fails halfway.
 */
export class CleanupStack {
  private readonly steps: Array<() => void> = [];

  push(step: () => void): void {
    this.steps.push(step);
  }

  /** Runs every step, newest first. Their own errors are ignored: the error that made us
   * unwind is the one the caller reports. */
  unwind(): void {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        step();
      } catch {
        // best effort
      }
    }
  }
}
