/**
 * Round-trip times of one run in a log-scale histogram: constant memory whatever the count
 * (a 100-million round-trip run needs the same 15 KiB as a short one), no allocation per sample,
 * percentiles within 1% (each bucket is 1% wider than the previous one). Max and mean are exact.
 */
export interface LatencySummary {
  readonly count: number;
  /** Microseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Bucket i holds samples up to MIN_MICROS * GROWTH^i. */
const MIN_MICROS = 0.05;
const GROWTH = 1.01;
/** Up to ~ MIN_MICROS * 1.01^2000 = 22 s; anything slower lands in the last bucket. */
const BUCKETS = 2000;
const LOG_GROWTH = Math.log(GROWTH);

export class LatencyRecorder {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #totalMicros = 0;
  #maxMicros = 0;

  get count(): number {
    return this.#count;
  }

  /** One round trip, in milliseconds (a performance.now() difference). */
  record(milliseconds: number): void {
    const micros = milliseconds * 1000;
    const index = micros <= MIN_MICROS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(micros / MIN_MICROS) / LOG_GROWTH));
    this.#counts[index] = (this.#counts[index] ?? 0) + 1;
    this.#count++;
    this.#totalMicros += micros;
    if (micros > this.#maxMicros) this.#maxMicros = micros;
  }

  /** The upper bound of the bucket holding the q-th sample (never above the exact max). */
  #quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.#maxMicros, MIN_MICROS * GROWTH ** i);
    }
    return this.#maxMicros;
  }

  summary(): LatencySummary {
    return {
      count: this.#count,
      p50: this.#quantile(0.5),
      p99: this.#quantile(0.99),
      max: this.#maxMicros,
      mean: this.#count === 0 ? 0 : this.#totalMicros / this.#count,
    };
  }
}
