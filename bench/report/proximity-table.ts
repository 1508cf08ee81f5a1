/**
 * The targets' comparisons again, split by where the host ran the two vCPUs during each
 * measurement (control/cache-line-round-trip.ts). A median over a whole run mixes the "near"
 * minutes, when cache lines pass between the vCPUs in ~60 ns, with the "far" ones (~450 ns), in
 * whatever proportion the run happened to get; the C ring speeds up ~4x near at 64 B, xenipc
 * much less. Here each side's median is taken over the measurements of one kind only.
 */
import { NEAR_ROUND_TRIP_NS, proximityOf } from '../control/cache-line-round-trip.js';
import type { BenchReport, ProximityChecked, VcpuProximity } from '../results-model.js';
import { median } from '../stats.js';
import type { Table } from './tables.js';
import { formatMbPerSec, formatMicros, formatRate, formatRatio } from './units.js';

interface Comparison<Run extends ProximityChecked> {
  name: string;
  xenipc: readonly Run[] | undefined;
  baseline: readonly Run[] | undefined;
  value: (run: Run) => number;
  show: (value: number) => string;
}

const SHOWN: readonly VcpuProximity[] = ['near', 'far'];

function proximityOfRun(run: ProximityChecked): VcpuProximity {
  return run.cacheLineRoundTripNs === undefined ? 'unknown' : proximityOf(run.cacheLineRoundTripNs);
}

/** The median of the runs of one proximity, and how many there were. */
function medianOf<Run extends ProximityChecked>(runs: readonly Run[] | undefined, proximity: VcpuProximity, value: (run: Run) => number): { median: number; count: number } {
  const values = (runs ?? []).filter((run) => proximityOfRun(run) === proximity).map(value);
  return { median: values.length > 0 ? median(values) : Number.NaN, count: values.length };
}

function row<Run extends ProximityChecked>(c: Comparison<Run>): string[] {
  return [
    c.name,
    ...SHOWN.flatMap((proximity) => {
      const a = medianOf(c.xenipc, proximity, c.value);
      const b = medianOf(c.baseline, proximity, c.value);
      const cell = (m: { median: number; count: number }): string => (m.count === 0 ? '-' : `${c.show(m.median)} (${m.count})`);
      return [cell(a), c.baseline === undefined ? '' : cell(b), c.baseline === undefined ? '' : formatRatio(a.median / b.median)];
    }),
  ];
}

/** Every proximity-checked measurement of the run. */
function allRuns(report: BenchReport): ProximityChecked[] {
  return [...report.stream.flatMap((c) => c.runs), ...report.pingPong.flatMap((c) => c.runs), ...report.rpc.flatMap((c) => c.runs)];
}

/** e.g. "near (under 200 ns) in 61 of 540 measurements, median 62 ns; far in 470, median 441 ns; changed during 9". */
export function describeProximity(report: BenchReport): string | undefined {
  const runs = allRuns(report).filter((run) => run.cacheLineRoundTripNs !== undefined);
  if (runs.length === 0) return undefined;
  const of = (proximity: VcpuProximity): ProximityChecked[] => runs.filter((run) => proximityOfRun(run) === proximity);
  const typical = (list: ProximityChecked[]): string => `${Math.round(median(list.flatMap((run) => run.cacheLineRoundTripNs ?? [])))} ns`;
  const near = of('near');
  const far = of('far');
  const parts = [`near (under ${NEAR_ROUND_TRIP_NS} ns) in ${near.length} of ${runs.length} measurements${near.length > 0 ? `, median ${typical(near)}` : ''}`];
  parts.push(`far in ${far.length}${far.length > 0 ? `, median ${typical(far)}` : ''}`);
  const changed = of('changed').length;
  if (changed > 0) parts.push(`changed during ${changed}`);
  return parts.join('; ');
}

export function buildProximityTable(report: BenchReport): Table | undefined {
  if (!allRuns(report).some((run) => run.cacheLineRoundTripNs !== undefined)) return undefined;
  const stream = (transport: string, size: number, ring: number) => report.stream.find((c) => c.transport === transport && c.size === size && c.ringBytes === ring)?.runs;
  const ping = (transport: string, spin: boolean | null) => report.pingPong.find((c) => c.transport === transport && c.spin === spin && c.placement === 'free')?.runs;
  const rpc = report.rpc.find((c) => c.transport === 'rpc-xenipc' && c.spin === true)?.runs;
  const rows: string[][] = [];
  const msgs = (r: { msgPerSec: number }): number => r.msgPerSec;
  const mb = (r: { mbPerSec: number }): number => r.mbPerSec;
  for (const ring of [65536, 1048576]) {
    const label = ring === 65536 ? '64 KiB' : '1 MiB';
    if (stream('xenipc', 64, ring) !== undefined) {
      rows.push(row({ name: `64 B msgs, ${label} ring: msg/s, send() vs C ring`, xenipc: stream('xenipc', 64, ring), baseline: stream('c-ring', 64, ring), value: msgs, show: formatRate }));
    }
  }
  if (stream('xenipc', 65536, 1048576) !== undefined) {
    const cRing = stream('c-ring', 65536, 1048576);
    rows.push(
      row({ name: '64 KiB msgs, 1 MiB ring: MB/s, send() vs C ring', xenipc: stream('xenipc', 65536, 1048576), baseline: cRing, value: mb, show: formatMbPerSec }),
      row({ name: '64 KiB msgs, 1 MiB ring: MB/s, claim/commit vs C ring', xenipc: stream('xenipc-claim', 65536, 1048576), baseline: cRing, value: mb, show: formatMbPerSec }),
    );
  }
  const micros = (ns: number): string => `${formatMicros(ns)} us`;
  if (ping('xenipc', true) !== undefined) {
    rows.push(row({ name: 'ping-pong p50, spinning, vs bare ring floor', xenipc: ping('xenipc', true), baseline: ping('bare-ring', null), value: (r) => r.p50Ns, show: micros }));
  }
  if (rpc !== undefined) {
    rows.push(
      row({ name: 'RPC round trip p50 (spinning) vs channel ping-pong p50', xenipc: rpc, baseline: ping('xenipc', true), value: (r) => r.p50Ns, show: micros }),
      row({ name: 'RPC pipelined calls/s (spinning)', xenipc: rpc, baseline: undefined, value: (r) => r.pipelinedCallsPerSec, show: (v) => `${formatRate(v)}/s` }),
    );
  }
  return {
    title: 'The targets by where the host ran the two vCPUs (median (measurements) of each kind)',
    header: ['comparison', ...SHOWN.flatMap((p) => [`${p}: xenipc`, `${p}: baseline`, `${p}: ratio`])],
    rows,
    notes: [
      'Near / far: the cache-line round trip between the two vCPUs, measured right before and right after each measurement (control/cache-line-round-trip.ts), was under / over the threshold both times; measurements during which it changed are left out. Ping-pong and RPC round trips are compared only within the same kind, as the stream ratios are.',
    ],
  };
}
