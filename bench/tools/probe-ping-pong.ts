/**
 * Diagnostic: 64 B ping-pong over a MessageChannel between two processes on the simulated host,
 * as the benchmark does it (onFrame, trySend + flush), counting each side's spins, how many found
 * the message, and the events sent, per round trip; prints the round-trip p50.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-ping-pong.ts [roundTrips] [spinMicros]
 * Also prints the p50 of every 1000 round trips: unpinned, the two processes often share one CPU
 * for the first several thousand (the scheduler wakes a process on its waker's CPU), where
 * spinning cannot help and event wake-ups are cheap (~6 us), then move apart (~15 us per
 * wake-up, sub-us when spinning). PROBE_PIN=1 pins the server to CPU 0 and the client to CPU 1
 * (taskset) from the start.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventChannel } from '@xenipc/core';
import { joinSimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { percentile } from '../stats.js';
import { pinProbeProcessesIfAsked } from '../control/cpu-placement.js';

const [roundTrips = 20000, spin = 20] = process.argv.slice(2, 4).map(Number);
const role = process.argv[4];

function instrument(endpoint: VchanEndpoint): { spins: number; hits: number; events: number } {
  const counts = { spins: 0, hits: 0, events: 0 };
  // spin() is private to @xenipc/channel; the probe wraps it at run time to count spins.
  const patchable = endpoint as unknown as { spin(ready: () => boolean): boolean };
  const spinOriginal = patchable.spin.bind(endpoint);
  patchable.spin = (ready: () => boolean): boolean => {
    counts.spins++;
    const ok = spinOriginal(ready);
    if (ok) counts.hits++;
    return ok;
  };
  const port = (endpoint as unknown as { evtchn: EventChannel }).evtchn;
  const notify = port.notify.bind(port);
  port.notify = () => {
    counts.events++;
    notify();
  };
  return counts;
}

function show(who: string, c: { spins: number; hits: number; events: number }): string {
  return `${who}: per round trip ${(c.spins / roundTrips).toFixed(2)} spins, ${(c.hits / roundTrips).toFixed(2)} found the message, ${(c.events / roundTrips).toFixed(2)} events sent`;
}

if (role === undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'xenipc-probe-'));
  const host = await startSimulatedHost({ dir });
  const self = fileURLToPath(import.meta.url);
  const server = fork(self, [String(roundTrips), String(spin), 'server', dir], { execArgv: process.execArgv });
  const serverDomid = await new Promise<number>((resolve) => server.once('message', (m) => resolve(m as number)));
  const client = fork(self, [String(roundTrips), String(spin), 'client', dir, String(serverDomid)], { execArgv: process.execArgv });
  client.on('message', (m) => server.send(m));
  pinProbeProcessesIfAsked(server, client);
  await new Promise((r) => client.once('exit', r));
  server.kill();
  await host.close();
  rmSync(dir, { recursive: true, force: true });
} else if (role === 'server') {
  const backend = await joinSimulatedHost({ dir: process.argv[5]!, autoStart: false });
  process.send!(backend.domid);
  const clientDomid = await new Promise<number>((resolve) => process.once('message', (m) => resolve(m as number)));
  const endpoint = await VchanServer.listen(backend, { peer: clientDomid, port: 'probe', spinMicros: spin });
  let counts: ReturnType<typeof instrument> | undefined;
  let echoed = 0;
  const channel: MessageChannel = new MessageChannel(endpoint, {
    onFrame: (bytes, start, end) => {
      if (++echoed === 1000) counts = instrument(endpoint);
      channel.trySend(bytes.subarray(start, end));
      channel.flush();
      if (echoed === roundTrips + 1000 && counts) console.log(show('server', counts));
    },
  });
} else {
  const backend = await joinSimulatedHost({ dir: process.argv[5]!, autoStart: false });
  process.send!(backend.domid);
  const endpoint = await VchanClient.connect(backend, { peer: Number(process.argv[6]), port: 'probe', spinMicros: spin });
  const payload = new Uint8Array(64);
  const rtt: number[] = [];
  let done = 0;
  let sentAt = 0;
  let counts: ReturnType<typeof instrument> | undefined;
  await new Promise<void>((resolve) => {
    const channel: MessageChannel = new MessageChannel(endpoint, {
      onFrame: () => {
        const now = performance.now();
        if (done >= 1000) rtt.push((now - sentAt) * 1000);
        if (++done === 1000) counts = instrument(endpoint);
        if (done === roundTrips + 1000) return resolve();
        sentAt = performance.now();
        channel.trySend(payload);
        channel.flush();
      },
    });
    sentAt = performance.now();
    channel.trySend(payload);
    channel.flush();
  });
  console.log(`client: ${roundTrips} round trips, p50 ${percentile(rtt, 50).toFixed(2)} us, p99 ${percentile(rtt, 99).toFixed(2)} us`);
  const windows: string[] = [];
  for (let i = 0; i < rtt.length; i += 1000) windows.push(percentile(rtt.slice(i, i + 1000), 50).toFixed(1));
  console.log(`client: p50 of each 1000 round trips (us): ${windows.join(' ')}`);
  if (counts) console.log(show('client', counts));
  setTimeout(() => process.exit(0), 300);
}
