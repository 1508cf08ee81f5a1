/**
 * What the client prints: one setup line, then one line per phase. The line format is stable
 * (key=value pairs) so scripts and the example's test can parse it; --json gives the same as JSON.
 */
import type { LatencySummary } from './latency-recorder.js';

export interface RunSetup {
  backend: string;
  clientDomid: number;
  serverDomid: number;
  port: string;
  ringSize: number;
  size: number;
  count: number;
  warmup: number;
  spinMicros: number;
  window: number;
}

export interface PhaseResult {
  phase: 'channel' | 'rpc';
  latency: LatencySummary;
  /** Wall time of the timed one-at-a-time round trips, seconds. */
  pingPongSeconds: number;
  /** Messages per second with `window` in flight (each one a full round trip). */
  pipelinedPerSecond: number;
  /** Payload bytes per second, both directions counted once: size * pipelinedPerSecond. */
  pipelinedBytesPerSecond: number;
  pipelinedCount: number;
}

/** A phase's result from its timings: `count` messages of `size` bytes, `window` at a time in `pipelinedSeconds`. */
export function phaseResult(
  phase: PhaseResult['phase'],
  latency: LatencySummary,
  pingPongSeconds: number,
  count: number,
  size: number,
  pipelinedSeconds: number,
): PhaseResult {
  return {
    phase,
    latency,
    pingPongSeconds,
    pipelinedCount: count,
    pipelinedPerSecond: count / pipelinedSeconds,
    pipelinedBytesPerSecond: (count * size) / pipelinedSeconds,
  };
}

export interface RunReport {
  setup: RunSetup;
  phases: PhaseResult[];
}

const us = (value: number) => `${value.toFixed(1)}us`;

export function formatSetup(setup: RunSetup): string {
  return (
    `setup backend=${setup.backend} server-domid=${setup.serverDomid} client-domid=${setup.clientDomid} port=${setup.port} ` +
    `ring-size=${setup.ringSize} size=${setup.size} count=${setup.count} warmup=${setup.warmup} spin=${setup.spinMicros}us window=${setup.window}`
  );
}

export function formatPhase(result: PhaseResult): string {
  const { latency } = result;
  return (
    `${result.phase.padEnd(7)} count=${latency.count} p50=${us(latency.p50)} p99=${us(latency.p99)} max=${us(latency.max)} mean=${us(latency.mean)} ` +
    `round-trips/s=${(latency.count / result.pingPongSeconds).toFixed(0)} ` +
    `throughput=${result.pipelinedPerSecond.toFixed(0)}msg/s bandwidth=${(result.pipelinedBytesPerSecond / 1e6).toFixed(2)}MB/s ` +
    `pipelined=${result.pipelinedCount}`
  );
}

export function formatReport(report: RunReport, json: boolean): string {
  if (json) return `${JSON.stringify(report)}\n`;
  return `${[formatSetup(report.setup), ...report.phases.map(formatPhase)].join('\n')}\n`;
}

/** The key=value pairs of one printed line (setup or phase): the parser for scripts and tests. */
export function parseReportLine(line: string): Record<string, string> {
  return Object.fromEntries([...line.matchAll(/([\w/-]+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]));
}

/** A printed latency ("12.3us") in microseconds; throws on anything else. */
export function parseMicros(value: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)us$/.exec(value ?? '');
  if (!match) throw new Error(`not a latency: ${String(value)}`);
  return Number(match[1]);
}
