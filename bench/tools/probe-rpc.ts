/**
 * Diagnostic: sequential RPC calls over VchanStream (+ @xenipc/rpc's StreamTransport) between two
 * processes on the simulated host, counting per call how often each side's spin ran and timed out,
 * and whether our own reply/request was still waiting to be written when the spin started.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-rpc.ts [calls] [spinMicros]
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinSimulatedHost, startSimulatedHost } from '@xenipc/core';
import { VchanClient, VchanServer, VchanStream, type VchanEndpoint } from '@xenipc/channel';
import { createStreamPeer, type RpcPeer } from '@xenipc/rpc';

const [calls = 5000, spin = 50] = process.argv.slice(2, 4).map(Number);
const role = process.argv[4];

interface SpinStats {
  spins: number;
  timeouts: number;
  /** Spins that started while this process still had an RPC message queued for the next tick. */
  startedWithOwnWritePending: number;
}

function instrument(endpoint: VchanEndpoint, peer: RpcPeer): SpinStats {
  const stats: SpinStats = { spins: 0, timeouts: 0, startedWithOwnWritePending: 0 };
  const transport = (peer as unknown as { transport: { flushScheduled: boolean } }).transport;
  const spinOriginal = endpoint.spin.bind(endpoint);
  endpoint.spin = (ready: () => boolean): boolean => {
    stats.spins++;
    if (transport.flushScheduled) stats.startedWithOwnWritePending++;
    const ok = spinOriginal(ready);
    if (!ok) stats.timeouts++;
    return ok;
  };
  return stats;
}

function show(who: string, stats: SpinStats): string {
  return `${who}: spins/call ${(stats.spins / calls).toFixed(2)}, timeouts/call ${(stats.timeouts / calls).toFixed(2)}, started with own write pending ${((100 * stats.startedWithOwnWritePending) / Math.max(1, stats.spins)).toFixed(0)} %`;
}

if (role === undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'xenipc-probe-'));
  const host = await startSimulatedHost({ dir });
  const self = fileURLToPath(import.meta.url);
  const server = fork(self, [String(calls), String(spin), 'server', dir], { execArgv: process.execArgv });
  const serverDomid = await new Promise<number>((resolve) => server.once('message', (m) => resolve(m as number)));
  const client = fork(self, [String(calls), String(spin), 'client', dir, String(serverDomid)], { execArgv: process.execArgv });
  client.on('message', (m) => server.send(m));
  await new Promise((r) => client.once('exit', r));
  server.kill();
  await host.close();
} else if (role === 'server') {
  const backend = await joinSimulatedHost({ dir: process.argv[5]!, autoStart: false });
  process.send!(backend.domid);
  const clientDomid = await new Promise<number>((resolve) => process.once('message', (m) => resolve(m as number)));
  const endpoint = await VchanServer.listen(backend, { peer: clientDomid, port: 'probe', spinMicros: spin });
  const peer = createStreamPeer(new VchanStream(endpoint), { timeoutMs: 0 });
  const stats = instrument(endpoint, peer);
  let served = 0;
  peer.register('add', (a: number, b: number) => {
    if (++served === calls + 200) console.log(show('server', stats));
    return a + b;
  });
} else {
  const backend = await joinSimulatedHost({ dir: process.argv[5]!, autoStart: false });
  process.send!(backend.domid);
  const endpoint = await VchanClient.connect(backend, { peer: Number(process.argv[6]), port: 'probe', spinMicros: spin });
  const peer = createStreamPeer(new VchanStream(endpoint), { timeoutMs: 0 });
  for (let i = 0; i < 200; i++) await peer.call('add', i, 1);
  const stats = instrument(endpoint, peer);
  const started = performance.now();
  for (let i = 0; i < calls; i++) await peer.call('add', i, 1);
  const us = ((performance.now() - started) * 1000) / calls;
  console.log(`client: ${calls} calls, mean round trip ${us.toFixed(1)} us`);
  console.log(show('client', stats));
  setTimeout(() => process.exit(0), 300);
}
