/**
 * Where the host runs this VM's two vCPUs relative to each other, measured as the round trip of
 * one cache line between a thread pinned to each (cache-line-round-trip.c). On the 2-vCPU build
 * machine it is ~60 ns at some minutes and ~450 ns at others, with nothing in between, and every
 * cell whose two sides hand cache lines back and forth follows it: the spinning C ring moves 64 B
 * messages at ~110-120 M msg/s "near" against ~20-34 M "far", 64 KiB ones at ~55 against ~25-30
 * GB/s (bench/ANALYSIS.md, "The C ring's two speeds: where the host puts the vCPUs"). The bench
 * checks it before and after each measurement, so that the results can compare like with like.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VcpuProximity } from '../results-model.js';
import { compileC } from './c-compiler.js';
import type { PinningSupport } from './cpu-placement.js';

const SOURCE = fileURLToPath(new URL('./cache-line-round-trip.c', import.meta.url));

/**
 * Round trips below this are "near" (what cores sharing a cache take), above it "far".
 * Measured here: 56-75 ns against 409-477 ns; a machine whose CPUs all sit in one cache would
 * read "near" throughout.
 */
export const NEAR_ROUND_TRIP_NS = 200;

export interface CacheLineProbe {
  path: string;
  cpus: readonly [number, number];
}

/** Compiles the probe into `dir` for the two CPUs the bench pins to; or why there is none. */
export function buildCacheLineProbe(dir: string, support: PinningSupport): CacheLineProbe | { unavailable: string } {
  if (!('cpus' in support)) return { unavailable: support.unavailable };
  const built = compileC('the cache-line round trip probe', SOURCE, join(dir, 'xenipc-cache-line-round-trip'), ['-pthread']);
  return 'path' in built ? { path: built.path, cpus: support.cpus } : built;
}

/** One measurement (~6 ms far, ~1 ms near), in ns; NaN if the probe failed (the bench goes on). */
export function measureCacheLineRoundTrip(probe: CacheLineProbe): Promise<number> {
  return new Promise((resolve) => {
    execFile(probe.path, probe.cpus.map(String), { timeout: 10_000 }, (error, stdout) => {
      let value: unknown;
      try {
        value = error === null ? (JSON.parse(stdout) as { roundTripNs?: unknown }).roundTripNs : undefined;
      } catch {
        value = undefined;
      }
      resolve(typeof value === 'number' && value > 0 ? Math.round(value) : Number.NaN);
    });
  });
}

/** A measurement's proximity from the round trips before and after it. */
export function proximityOf(roundTripNs: readonly [number, number]): VcpuProximity {
  const [before, after] = roundTripNs;
  if (!Number.isFinite(before) || !Number.isFinite(after)) return 'unknown';
  const near = (ns: number): boolean => ns < NEAR_ROUND_TRIP_NS;
  if (near(before) && near(after)) return 'near';
  if (!near(before) && !near(after)) return 'far';
  return 'changed';
}
