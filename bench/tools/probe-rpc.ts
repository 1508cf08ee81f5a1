/**
 * Diagnostic: sequential RPC calls between two processes on the simulated host, counting per call
 * how often each side's spin ran and timed out, and whether our own reply/request was still
 * waiting to be written (stream) or published (channel) when the spin started.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-rpc.ts [calls] [spinMicros] [stream|channel]
 * PROBE_PIN=1 pins the server to CPU 0 and the client to CPU 1. Only 200 calls warm up: take
 * absolute times from runs of 30000 calls or more.
 * PROBE_FLUSH_BEFORE_SPIN=1 (channel only) publishes what trySend() wrote before every spin: an
 * emulation, from outside, of the fix proposed in bench/ANALYSIS.md section 1.
 */
import { fileURLToPath } from 'node:url';
import { runProbePair } from '../control/probe-pair.js';
import { joinSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer, VchanStream, type VchanEndpoint } from '@xenipc/channel';
import { createChannelPeer, createStreamPeer, type RpcPeer } from '@xenipc/rpc';

function makePeer(endpoint: VchanEndpoint): { peer: RpcPeer; channel: MessageChannel | undefined } {
  if (transportKind === 'stream') return { peer: createStreamPeer(new VchanStream(endpoint), { timeoutMs: 0 }), channel: undefined };
  const channel = new MessageChannel(endpoint);
  return { peer: createChannelPeer(channel, { timeoutMs: 0 }), channel };
}

const [calls = 5000, spin = 50] = process.argv.slice(2, 4).map(Number);
const transportKind = process.argv[4] === 'stream' ? 'stream' : 'channel';
const role = process.argv[5];
const argBase = 6;

interface SpinStats {
  spins: number;
  timeouts: number;
  /** Spins that started while this process still had an RPC message queued for the next tick. */
  startedWithOwnWritePending: number;
}

function ownWritePending(peer: RpcPeer, channel: MessageChannel | undefined): () => boolean {
  if (channel !== undefined) return () => (channel as unknown as { publishing: string }).publishing !== 'published';
  const transport = (peer as unknown as { transport: { flushScheduled: boolean } }).transport;
  return () => transport.flushScheduled;
}

function instrument(endpoint: VchanEndpoint, peer: RpcPeer, channel: MessageChannel | undefined): SpinStats {
  const stats: SpinStats = { spins: 0, timeouts: 0, startedWithOwnWritePending: 0 };
  const pending = ownWritePending(peer, channel);
  // spin() is private to @xenipc/channel; the probe wraps it at run time to count spins.
  const patchable = endpoint as unknown as { spin(ready: () => boolean): boolean };
  const spinOriginal = patchable.spin.bind(endpoint);
  const flushFirst = channel !== undefined && process.env.PROBE_FLUSH_BEFORE_SPIN === '1';
  patchable.spin = (ready: () => boolean): boolean => {
    stats.spins++;
    if (flushFirst) channel.flush();
    if (pending()) stats.startedWithOwnWritePending++;
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
  await runProbePair(fileURLToPath(import.meta.url), [String(calls), String(spin), transportKind], { relayToClient: false, pin: true });
} else if (role === 'server') {
  const backend = await joinSimulatedHost({ dir: process.argv[argBase]!, autoStart: false });
  process.send!(backend.domid);
  const clientDomid = await new Promise<number>((resolve) => process.once('message', (m) => resolve(m as number)));
  const endpoint = await VchanServer.listen(backend, { peer: clientDomid, port: 'probe', spinMicros: spin });
  const { peer, channel } = makePeer(endpoint);
  const stats = instrument(endpoint, peer, channel);
  let served = 0;
  peer.register('add', (a: number, b: number) => {
    if (++served === calls + 200) console.log(show('server', stats));
    return a + b;
  });
} else {
  const backend = await joinSimulatedHost({ dir: process.argv[argBase]!, autoStart: false });
  process.send!(backend.domid);
  const endpoint = await VchanClient.connect(backend, { peer: Number(process.argv[argBase + 1]), port: 'probe', spinMicros: spin });
  const { peer, channel } = makePeer(endpoint);
  for (let i = 0; i < 200; i++) await peer.call('add', i, 1);
  const stats = instrument(endpoint, peer, channel);
  const started = performance.now();
  for (let i = 0; i < calls; i++) await peer.call('add', i, 1);
  const us = ((performance.now() - started) * 1000) / calls;
  console.log(`client: ${calls} calls, mean round trip ${us.toFixed(1)} us`);
  console.log(show('client', stats));
  setTimeout(() => process.exit(0), 300);
}
