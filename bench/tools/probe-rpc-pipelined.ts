/**
 * Diagnostic: pipelined RPC between two processes on the simulated host, as the benchmark's
 * pipelined cell does it (add(i, 1), `window` calls in flight, createChannelPeer on the endpoint,
 * the channel's default spin), and what each side costs: calls per second, and each process's
 * CPU (user + system, process.cpuUsage) as a share of the window and per call. Both sides near
 * 100 % means the calls are CPU-bound; one side well below means it waits for the other.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-rpc-pipelined.ts [windows] [ms] [window]
 * Defaults: 3 windows of 1500 ms, 256 calls in flight, after a 300 ms warm-up.
 */
import { fileURLToPath } from 'node:url';
import { runProbePair } from '../control/probe-pair.js';
import { joinSimulatedHost } from '@xenipc/sim';
import { VchanClient, VchanServer } from '@xenipc/channel';
import { createChannelPeer } from '@xenipc/rpc';

const [windows = 3, windowMs = 1500, inFlight = 256] = process.argv.slice(2, 5).map(Number);
const role = process.argv[5];
const argBase = 6;
const WARMUP_MS = 300;

type CpuUsage = { user: number; system: number };
const percentOf = (micros: number, seconds: number): string => `${((micros / 1e6 / seconds) * 100).toFixed(0)} %`;

if (role === undefined) {
  await runProbePair(fileURLToPath(import.meta.url), [windows, windowMs, inFlight].map(String), { relayToClient: true, pin: false });
} else if (role === 'server') {
  const backend = await joinSimulatedHost({ dir: process.argv[argBase]!, autoStart: false });
  process.send!(backend.domid);
  const clientDomid = await new Promise<number>((resolve) => process.once('message', (m) => resolve(m as number)));
  const endpoint = await VchanServer.listen(backend, { peer: clientDomid, port: 'probe' });
  const peer = createChannelPeer(endpoint, { timeoutMs: 0 });
  peer.register('add', (a: number, b: number) => a + b);
  // runProbePair ends the server with SIGTERM: exit normally instead, so that --cpu-prof writes
  // the server's profile too.
  process.once('SIGTERM', () => process.exit(0));
  let started = process.cpuUsage();
  process.on('message', (m) => {
    if (m === 'start') started = process.cpuUsage();
    if (m === 'stop') process.send!({ serverCpu: process.cpuUsage(started) });
  });
} else {
  const backend = await joinSimulatedHost({ dir: process.argv[argBase]!, autoStart: false });
  process.send!(backend.domid);
  const endpoint = await VchanClient.connect(backend, { peer: Number(process.argv[argBase + 1]), port: 'probe' });
  const peer = createChannelPeer(endpoint, { timeoutMs: 0 });
  /** Calls completed in `ms`, with `inFlight` outstanding throughout (as bench/transports/rpc-endpoint.ts). */
  const pipelined = (ms: number): Promise<number> =>
    new Promise((resolve) => {
      const deadline = performance.now() + ms;
      let completed = 0;
      let outstanding = 0;
      let stopping = false;
      const onResult = (): void => {
        completed++;
        outstanding--;
        if (!stopping && (completed & 63) === 0 && performance.now() >= deadline) stopping = true;
        if (!stopping) issue();
        else if (outstanding === 0) resolve(completed);
      };
      const issue = (): void => {
        outstanding++;
        void peer.call('add', completed, 1).then(onResult);
      };
      for (let i = 0; i < inFlight; i++) issue();
    });
  await pipelined(WARMUP_MS);
  for (let w = 0; w < windows; w++) {
    process.send!('start');
    const cpuBefore = process.cpuUsage();
    const t0 = performance.now();
    const calls = await pipelined(windowMs);
    const seconds = (performance.now() - t0) / 1000;
    const client = process.cpuUsage(cpuBefore);
    process.send!('stop');
    const server = await new Promise<CpuUsage>((resolve) => process.once('message', (m) => resolve((m as { serverCpu: CpuUsage }).serverCpu)));
    const side = (name: string, cpu: CpuUsage): string =>
      `${name} CPU ${percentOf(cpu.user + cpu.system, seconds)} (system ${percentOf(cpu.system, seconds)}), ${(((cpu.user + cpu.system) * 1000) / calls).toFixed(0)} ns/call`;
    console.log(`${(calls / seconds / 1e6).toFixed(2)} M calls/s; ${side('client', client)}; ${side('server', server)}`);
  }
  peer.close();
  setTimeout(() => process.exit(0), 100);
}
