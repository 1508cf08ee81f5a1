/**
 * Bounds how much a stream sender has handed to Node but Node has not yet written, counted through
 * write callbacks. This is the backpressure any competent socket user applies (like waiting for
 * 'drain'), and it also forces the sender to yield to the event loop now and then: a socket that
 * accepts every write synchronously would otherwise never let the write callbacks run.
 */
export class WriteWindow {
  private inFlight = 0;
  private wake: (() => void) | undefined;
  /** Write callbacks call this; bound once so it is not allocated per write. */
  readonly release = (): void => {
    this.inFlight--;
    const wake = this.wake;
    if (wake !== undefined && this.inFlight <= this.resumeAt) {
      this.wake = undefined;
      wake();
    }
  };

  private readonly resumeAt: number;

  constructor(private readonly limit: number) {
    this.resumeAt = limit >> 1;
  }

  /** Counts one write handed to the transport. */
  acquire(): void {
    this.inFlight++;
  }

  get full(): boolean {
    return this.inFlight >= this.limit;
  }

  /** Resolves once at most half the window is in flight. Call when `full`. */
  drained(): Promise<void> {
    if (this.inFlight <= this.resumeAt) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Resolves when every write has completed. */
  async settled(): Promise<void> {
    while (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
