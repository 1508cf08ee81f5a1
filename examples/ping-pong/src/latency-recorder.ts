/**
 * Round-trip times of one run, kept in a preallocated Float64Array so that recording a sample
 * allocates nothing (the measurement must not disturb what it measures).
 */
export interface LatencySummary {
  readonly count: number;
  /** Microseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export class LatencyRecorder {
  readonly #samples: Float64Array;
  #count = 0;

  constructor(capacity: number) {
    this.#samples = new Float64Array(capacity);
  }

  get count(): number {
    return this.#count;
  }

  /** One round trip, in milliseconds (performance.now() differences). */
  record(milliseconds: number): void {
    if (this.#count < this.#samples.length) this.#samples[this.#count++] = milliseconds;
  }

  summary(): LatencySummary {
    const sorted = this.#samples.slice(0, this.#count).sort();
    const at = (q: number) => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0));
    let total = 0;
    for (const s of sorted) total += s;
    const us = (ms: number) => ms * 1000;
    return {
      count: sorted.length,
      p50: us(at(0.5)),
      p99: us(at(0.99)),
      max: us(sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0)),
      mean: us(sorted.length === 0 ? 0 : total / sorted.length),
    };
  }
}
