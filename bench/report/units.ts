/** How numbers are printed in tables: sizes in B/KiB/MiB, rates with thousands, times in us. */

export function formatBytes(bytes: number): string {
  if (bytes >= 1048576 && bytes % 1048576 === 0) return `${bytes / 1048576} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

export function formatMbPerSec(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function formatMicros(ns: number): string {
  if (!Number.isFinite(ns)) return 'n/a';
  const us = ns / 1000;
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2);
}

export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 10) return `${value.toFixed(0)}x`;
  // Below 0.1, two decimals would print 0.052 as "0.05x" next to a "<= 0.05x" target it misses.
  return value >= 0.1 ? `${value.toFixed(2)}x` : `${value.toFixed(3)}x`;
}

export function formatPercent(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)} %` : 'n/a';
}
