/**
 * Diagnostic: where the slow RPC round trips (the p99 tail) come from. Two processes on the
 * simulated host, sequential add(i, 1) calls over createChannelPeer, as the benchmark's RPC cell.
 * For every call the client records its round trip and, for the slowest 1 %, whether
 *   - a garbage collection ran in the client or in the server during it (PerformanceObserver 'gc',
 *     both clocks as absolute time: performance.timeOrigin + now());
 *   - a spin of the client or of the server gave up during it (the wait then went to the event
 *     channel: a wake-up); the server sends its timeline at the end, compared by absolute time.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-rpc-tail.ts [calls] [spinMicros]
 * Prints p50/p99/max and, for the calls above p99, how many overlapped each cause.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runProbePair } from '../control/probe-pair.js';
import { joinSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { createChannelPeer } from '@xenipc/rpc';

const [calls = 20000, spin = 20] = process.argv.slice(2, 4).map(Number);
const role = process.argv[4];
const argBase = 5;
const WARMUP = 2000;

/** [start, end] in absolute ms (timeOrigin-based), kind. */
type Interval = [number, number, string];

const now = (): number => performance.timeOrigin + performance.now();

function watchGc(into: Interval[]): PerformanceObserver {
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as unknown as { detail?: { kind?: number } }).detail;
      const kind = detail?.kind === 1 ? 'gc-minor' : detail?.kind === 4 ? 'gc-incremental' : detail?.kind === 2 ? 'gc-major' : `gc-${detail?.kind ?? '?'}`;
      into.push([performance.timeOrigin + entry.startTime, performance.timeOrigin + entry.startTime + entry.duration, kind]);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
}

/** Records every spin that gave up (the wait then went to the event channel). */
function watchSpins(endpoint: VchanEndpoint, into: Interval[]): void {
  const patchable = endpoint as unknown as { spin(ready: () => boolean): boolean };
  const original = patchable.spin.bind(endpoint);
  patchable.spin = (ready: () => boolean): boolean => {
    const start = now();
    const ok = original(ready);
    if (!ok) into.push([start, now(), 'spin-gave-up']);
    return ok;
  };
}

if (role === undefined) {
  await runProbePair(fileURLToPath(import.meta.url), [String(calls), String(spin)], { relayToClient: true, pin: false });
} else if (role === 'server') {
  const backend = await joinSimulatedHost({ dir: process.argv[argBase]!, autoStart: false });
  process.send!(backend.domid);
  const clientDomid = await new Promise<number>((resolve) => process.once('message', (m) => resolve(m as number)));
  const endpoint = await VchanServer.listen(backend, { peer: clientDomid, port: 'probe', spinMicros: spin });
  const events: Interval[] = [];
  watchGc(events);
  watchSpins(endpoint, events);
  const peer = createChannelPeer(new MessageChannel(endpoint), { timeoutMs: 0 });
  peer.register('add', (a: number, b: number) => a + b);
  process.on('message', (m) => {
    if (m === 'report') process.send!({ serverEvents: events });
  });
} else {
  const backend = await joinSimulatedHost({ dir: process.argv[argBase]!, autoStart: false });
  process.send!(backend.domid);
  const endpoint = await VchanClient.connect(backend, { peer: Number(process.argv[argBase + 1]), port: 'probe', spinMicros: spin });
  const peer = createChannelPeer(new MessageChannel(endpoint), { timeoutMs: 0 });
  for (let i = 0; i < WARMUP; i++) await peer.call('add', i, 1);
  const events: Interval[] = [];
  watchGc(events);
  watchSpins(endpoint, events);
  const starts = new Float64Array(calls);
  const rtts = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const sum = await peer.call<number>('add', i, 1);
    rtts[i] = (performance.now() - t0) * 1000;
    starts[i] = performance.timeOrigin + t0;
    if (sum !== i + 1) throw new Error('wrong sum');
  }
  await new Promise((r) => setTimeout(r, 50)); // let the GC observer's entries arrive
  process.send!('report');
  const serverEvents = await new Promise<Interval[]>((resolve) => process.once('message', (m) => resolve((m as { serverEvents: Interval[] }).serverEvents)));
  const sorted = [...rtts].sort((a, b) => a - b);
  const p = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const p99 = p(0.99);
  console.log(`${calls} calls, spinMicros ${spin}: p50 ${p(0.5).toFixed(2)} us, p90 ${p(0.9).toFixed(2)}, p99 ${p99.toFixed(2)}, p99.9 ${p(0.999).toFixed(2)}, max ${sorted[sorted.length - 1]!.toFixed(1)}`);
  const causes = new Map<string, number>();
  let slow = 0;
  let unexplained = 0;
  for (let i = 0; i < calls; i++) {
    if (rtts[i]! < p99) continue;
    slow++;
    const a = starts[i]!;
    const b = a + rtts[i]! / 1000;
    const hit = new Set<string>();
    for (const [s, e, kind] of events) if (s < b && e > a) hit.add(`client ${kind}`);
    for (const [s, e, kind] of serverEvents) if (s < b && e > a) hit.add(`server ${kind}`);
    if (hit.size === 0) unexplained++;
    for (const h of hit) causes.set(h, (causes.get(h) ?? 0) + 1);
  }
  console.log(`calls at or above p99: ${slow}; overlapping:`);
  for (const [cause, n] of [...causes].sort((x, y) => y[1] - x[1])) console.log(`  ${cause}: ${n}`);
  console.log(`  none of these: ${unexplained}`);
  const count = (list: Interval[], kind: string): number => list.filter((x) => x[2] === kind).length;
  console.log(`whole run: client gc-minor ${count(events, 'gc-minor')}, spin gave up ${count(events, 'spin-gave-up')}; server gc-minor ${count(serverEvents, 'gc-minor')}, spin gave up ${count(serverEvents, 'spin-gave-up')}`);
  peer.close();
  setTimeout(() => process.exit(0), 100);
}
