/**
 * Diagnostic: stream N messages of SIZE bytes over a MessageChannel between two processes on the
 * simulated host (the same path as the benchmark) and count the event-channel notifications each
 * side sent and received, its spins, the time the sender spent waiting in send(), and the
 * receiver's CPU time and context switches.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-stream.ts [size] [ringBytes] [count] [spinMicros]
 * PROBE_RECEIVE=frame receives with onFrame (in place, as the benchmark's stream cells do)
 * instead of onMessage (a Uint8Array per message).
 * PROBE_PIN=1 pins the receiver to CPU 0 and the sender to CPU 1 (every thread of each);
 * PROBE_PIN=main pins only the two main threads, and leaves V8's and libuv's threads free.
 * PROBE_THREADS=1 prints each thread's CPU time and context switches during the run.
 * PROBE_EVENT_LATENCY=1 prints how long events took from one side's notify() to the other's
 * 'event' (p10 / p50 / p90 / max).
 * PROBE_FLUSH_BYTES=N makes the sender call flush() after every N bytes of trySend (an experiment:
 * does publishing before the ring is full let the receiver overlap with the sender?).
 * PROBE_RECEIVER_TREE=DIR / PROBE_SENDER_TREE=DIR fork that role from bench/tools/probe-stream.ts
 * of another checkout (its packages; this file's copy there, the simulated host of this one),
 * to tell which side of a before/after difference carries it (bench/ANALYSIS.md, "The 4 KiB
 * regression found"). Both checkouts must speak the same simulated-host protocol.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventChannel } from '@xenipc/core';
import { joinSimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { pinProbeProcessesIfAsked } from '../control/cpu-placement.js';

/** PROBE_THREADS=1: each thread's CPU time (10 ms ticks) and context switches over the run
 * (main thread, V8's platform workers, libuv's pool), from /proc/self/task. */
type ThreadSnapshot = Map<string, { comm: string; ticks: number; vol: number; invol: number }>;
function threadSnapshot(): ThreadSnapshot {
  const snapshot: ThreadSnapshot = new Map();
  if (process.env.PROBE_THREADS !== '1') return snapshot;
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    const vol = Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]);
    const invol = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]);
    snapshot.set(tid, { comm, ticks: Number(fields[11]) + Number(fields[12]), vol, invol });
  }
  return snapshot;
}
function threadReport(who: string, before: ThreadSnapshot): void {
  for (const [tid, now] of threadSnapshot()) {
    const was = before.get(tid) ?? { ticks: 0, vol: 0, invol: 0 };
    const ticks = now.ticks - was.ticks;
    const vol = now.vol - was.vol;
    const invol = now.invol - was.invol;
    if (ticks > 0 || vol + invol > 2) console.log(`${who} thread ${tid} ${now.comm}: ${ticks * 10} ms CPU, ${vol} vol, ${invol} invol`);
  }
}

const [size = 65536, ring = 65536, count = 2000, spin = 50] = process.argv.slice(2, 6).map(Number);
const role = process.argv[6];

/** PROBE_EVENT_LATENCY=1: when each side sent and got its events (CLOCK_MONOTONIC ns, shared by
 * all processes), written to the probe's directory; the parent matches every event received to
 * the latest one the peer sent before it, and prints the spread of those delays. */
const eventTimes = { sent: [] as bigint[], got: [] as bigint[] };
const recordEvents = process.env.PROBE_EVENT_LATENCY === '1';

function writeEventTimes(dir: string, who: string): void {
  if (recordEvents) writeFileSync(join(dir, `events-${who}.json`), JSON.stringify({ sent: eventTimes.sent.map(String), got: eventTimes.got.map(String) }));
}

function eventDelays(sent: bigint[], got: bigint[]): string {
  const delays: number[] = [];
  let i = 0;
  for (const at of got) {
    while (i + 1 < sent.length && (sent[i + 1] as bigint) <= at) i++;
    if (sent.length > 0 && (sent[i] as bigint) <= at) delays.push(Number(at - (sent[i] as bigint)) / 1000);
  }
  delays.sort((a, b) => a - b);
  const at = (q: number): string => (delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? 0).toFixed(0);
  return `${delays.length} events, p10 ${at(0.1)} / p50 ${at(0.5)} / p90 ${at(0.9)} / max ${at(1)} us`;
}

function reportEventLatency(dir: string): void {
  if (!recordEvents) return;
  const read = (who: string): { sent: bigint[]; got: bigint[] } => {
    const raw = JSON.parse(readFileSync(join(dir, `events-${who}.json`), 'utf8')) as { sent: string[]; got: string[] };
    return { sent: raw.sent.map(BigInt), got: raw.got.map(BigInt) };
  };
  const receiver = read('receiver');
  const sender = read('sender');
  console.log(`event delay sender -> receiver: ${eventDelays(sender.sent, receiver.got)}`);
  console.log(`event delay receiver -> sender: ${eventDelays(receiver.sent, sender.got)}`);
}

function countEvents(endpoint: VchanEndpoint): { sent: number; received: number; spins: number; spinTimeouts: number; spinMs: number } {
  const counts = { sent: 0, received: 0, spins: 0, spinTimeouts: 0, spinMs: 0 };
  // spin() is private to @xenipc/channel; the probe wraps it at run time to count spins.
  const patchable = endpoint as unknown as { spin(ready: () => boolean): boolean };
  const spin = patchable.spin.bind(endpoint);
  patchable.spin = (ready: () => boolean): boolean => {
    const t = performance.now();
    const ok = spin(ready);
    counts.spins++;
    if (!ok) counts.spinTimeouts++;
    counts.spinMs += performance.now() - t;
    return ok;
  };
  const port = (endpoint as unknown as { evtchn: EventChannel }).evtchn;
  const notify = port.notify.bind(port);
  port.notify = () => {
    counts.sent++;
    if (recordEvents) eventTimes.sent.push(process.hrtime.bigint());
    notify();
  };
  port.on('event', () => {
    counts.received++;
    if (recordEvents) eventTimes.got.push(process.hrtime.bigint());
  });
  return counts;
}

if (role === undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'xenipc-probe-'));
  const host = await startSimulatedHost({ dir });
  const self = fileURLToPath(import.meta.url);
  const args = [String(size), String(ring), String(count), String(spin)];
  const roleFile = (tree: string | undefined): string => (tree === undefined ? self : join(tree, 'bench/tools/probe-stream.ts'));
  const receiver = fork(roleFile(process.env.PROBE_RECEIVER_TREE), [...args, 'receiver', dir], { execArgv: process.execArgv });
  const domid = await new Promise<number>((resolve) => receiver.once('message', (m) => resolve(m as number)));
  const sender = fork(roleFile(process.env.PROBE_SENDER_TREE), [...args, 'sender', dir, String(domid)], { execArgv: process.execArgv });
  pinProbeProcessesIfAsked(receiver, sender);
  sender.on('message', (m) => receiver.send(m));
  await Promise.all([new Promise((r) => receiver.once('exit', r)), new Promise((r) => sender.once('exit', r))]);
  reportEventLatency(dir);
  await host.close();
  rmSync(dir, { recursive: true, force: true });
} else if (role === 'receiver') {
  const backend = await joinSimulatedHost({ dir: process.argv[7]!, autoStart: false });
  process.send!(backend.domid);
  const senderDomid = await new Promise<number>((resolve) => process.once('message', (m) => resolve(m as number)));
  const server = await VchanServer.listen(backend, { peer: senderDomid, port: 'probe', readSize: ring, writeSize: ring, spinMicros: spin });
  const events = countEvents(server);
  let received = 0;
  const usageBefore = process.resourceUsage();
  const threadsBefore = threadSnapshot();
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const done = (): void => {
      if (++received === count) resolve();
    };
    new MessageChannel(server, process.env.PROBE_RECEIVE === 'frame' ? { onFrame: done } : { onMessage: done });
  });
  const ms = performance.now() - started;
  const usage = process.resourceUsage();
  const cpuMs = (usage.userCPUTime - usageBefore.userCPUTime + usage.systemCPUTime - usageBefore.systemCPUTime) / 1000;
  // CPU near the wall time: the receiver works (or spins); voluntary switches: it slept.
  console.log(`receiver: ${cpuMs.toFixed(0)} ms CPU; ${usage.voluntaryContextSwitches - usageBefore.voluntaryContextSwitches} voluntary, ${usage.involuntaryContextSwitches - usageBefore.involuntaryContextSwitches} involuntary context switches`);
  console.log(`receiver: ${count} x ${size} B in ${ms.toFixed(1)} ms = ${((count * size) / ms / 1000).toFixed(0)} MB/s; events sent ${events.sent}, received ${events.received}; spins ${events.spins}, timeouts ${events.spinTimeouts}, ${events.spinMs.toFixed(1)} ms spinning`);
  threadReport('receiver', threadsBefore);
  writeEventTimes(process.argv[7]!, 'receiver');
  process.exit(0);
} else {
  const backend = await joinSimulatedHost({ dir: process.argv[7]!, autoStart: false });
  const serverDomid = Number(process.argv[8]);
  process.send!(backend.domid);
  const client = await VchanClient.connect(backend, { peer: serverDomid, port: 'probe', spinMicros: spin });
  const events = countEvents(client);
  const channel = new MessageChannel(client);
  const payload = new Uint8Array(size);
  let waited = 0;
  let waits = 0;
  const threadsBefore = threadSnapshot();
  const flushBytes = Number(process.env.PROBE_FLUSH_BYTES ?? 0);
  let unflushed = 0;
  for (let i = 0; i < count; i++) {
    if (channel.trySend(payload)) {
      unflushed += size;
      if (flushBytes > 0 && unflushed >= flushBytes) {
        channel.flush();
        unflushed = 0;
      }
      continue;
    }
    unflushed = 0;
    const t = performance.now();
    await channel.send(payload);
    waited += performance.now() - t;
    waits++;
  }
  channel.flush();
  console.log(`sender: ${waits} waits, ${(waited * 1000 / Math.max(1, waits)).toFixed(1)} us avg, ${waited.toFixed(1)} ms total; events sent ${events.sent}, received ${events.received}; spins ${events.spins}, timeouts ${events.spinTimeouts}, ${events.spinMs.toFixed(1)} ms spinning`);
  threadReport('sender', threadsBefore);
  writeEventTimes(process.argv[7]!, 'sender');
  setTimeout(() => process.exit(0), 500);
}
