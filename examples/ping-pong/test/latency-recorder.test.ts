import { describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../src/latency-recorder.js';

describe('LatencyRecorder', () => {
  it('reports percentiles within 1% and exact max and mean', () => {
    const recorder = new LatencyRecorder();
    // 1..1000 microseconds, shuffled order does not matter for a histogram.
    for (let us = 1000; us >= 1; us--) recorder.record(us / 1000);
    const s = recorder.summary();
    expect(s.count).toBe(1000);
    expect(s.p50).toBeGreaterThanOrEqual(500);
    expect(s.p50).toBeLessThanOrEqual(505);
    expect(s.p99).toBeGreaterThanOrEqual(990);
    expect(s.p99).toBeLessThanOrEqual(1000);
    expect(s.max).toBeCloseTo(1000, 6);
    expect(s.mean).toBeCloseTo(500.5, 6);
  });

  it('is empty-safe and clamps huge samples into the last bucket without losing the max', () => {
    expect(new LatencyRecorder().summary()).toEqual({ count: 0, p50: 0, p99: 0, max: 0, mean: 0 });
    const recorder = new LatencyRecorder();
    recorder.record(0);
    recorder.record(60_000); // one minute
    const s = recorder.summary();
    expect(s.p50).toBeLessThan(0.1);
    expect(s.max).toBe(60_000_000);
    expect(s.p99).toBeLessThanOrEqual(s.max);
  });
});
