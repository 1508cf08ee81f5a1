/**
 * AdaptiveSpin with no budget left: which waits probe (spin at the full budget). Without backoff,
 * every reprobeEvery-th; with backoff, the next one after the first failure, then with gaps that
 * double up to reprobeEvery, and from the start again after a probe that paid off. And with
 * yieldCpu: when a spin gives the CPU away (counted by checks, not by time).
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveSpin } from '../src/adaptive-spin.js';

/** Runs `waits` waits after a first failing spin; returns the indices of those that probed. */
function probedWaits(spin: AdaptiveSpin, waits: number, succeedAt: ReadonlySet<number> = new Set()): number[] {
  expect(spin.run(() => false)).toBe(false);
  const probed: number[] = [];
  for (let wait = 0; wait < waits; wait++) {
    let checked = false;
    spin.run(() => {
      checked = true;
      return succeedAt.has(wait);
    });
    if (checked) probed.push(wait);
  }
  return probed;
}

const FULL_MS = 0.005;

describe('AdaptiveSpin probes with no budget left', () => {
  it('without backoff: every reprobeEvery-th wait', () => {
    const spin = new AdaptiveSpin({ fullMs: FULL_MS, reprobeEvery: 8, halveOnFailure: false });
    expect(probedWaits(spin, 40)).toEqual([7, 15, 23, 31, 39]);
  });

  it('with backoff: at once, then gaps of 1, 3, 7 waits, capped at reprobeEvery', () => {
    const spin = new AdaptiveSpin({ fullMs: FULL_MS, reprobeEvery: 8, halveOnFailure: false, backoff: true });
    expect(probedWaits(spin, 40)).toEqual([0, 2, 6, 14, 22, 30, 38]);
  });

  it('with backoff: a probe that pays off brings the full budget back and restarts the gaps', () => {
    const spin = new AdaptiveSpin({ fullMs: FULL_MS, reprobeEvery: 8, halveOnFailure: false, backoff: true });
    // probes at 0, 2, 6 fail; the one at 14 succeeds, so 15 spins at the full budget (and fails):
    // then 16 probes at once, 18 after a gap of 1, ...
    expect(probedWaits(spin, 24, new Set([14]))).toEqual([0, 2, 6, 14, 15, 16, 18, 22]);
  });
});

describe('AdaptiveSpin gives the CPU away in a long spin', () => {
  /** One spin whose ready() turns true at its `readyAt`-th call; counts the yields meanwhile. */
  function countYields(options: { yieldAfterMs: number; fullMs: number; readyAt: number }): { ready: boolean; yields: number } {
    let yields = 0;
    let checks = 0;
    const spin = new AdaptiveSpin({
      fullMs: options.fullMs,
      reprobeEvery: 16,
      halveOnFailure: true,
      yieldCpu: () => {
        yields++;
      },
      yieldAfterMs: options.yieldAfterMs,
    });
    const ready = spin.run(() => ++checks >= options.readyAt);
    return { ready, yields };
  }

  it('past yieldAfterMs, once per clock read (every 8 checks) until ready', () => {
    // Checks 1-24 fail in three rounds of 8, each followed by a clock read and a yield; 25 pays.
    expect(countYields({ yieldAfterMs: 0, fullMs: 10_000, readyAt: 25 })).toEqual({ ready: true, yields: 3 });
  });

  it('not before yieldAfterMs, even in a spin that fails', () => {
    expect(countYields({ yieldAfterMs: 10_000, fullMs: 0.05, readyAt: Infinity })).toEqual({ ready: false, yields: 0 });
  });

  it('not in a spin that pays before its first clock read', () => {
    expect(countYields({ yieldAfterMs: 0, fullMs: 10_000, readyAt: 3 })).toEqual({ ready: true, yields: 0 });
  });
});
