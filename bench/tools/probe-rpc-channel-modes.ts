/**
 * Diagnostic: the two ChannelTransport receive modes of @xenipc/rpc between two processes on a
 * private simulated host, interleaved round by round: 'endpoint' (createChannelPeer(endpoint): the
 * transport opens the channel with onFrame and decodes frames in place) and 'channel'
 * (createChannelPeer(new MessageChannel(endpoint)): one Uint8Array per message). Prints, per mode,
 * pipelined calls/s and the round-trip p50, medians over rounds (the figures in packages/rpc/README.md).
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-rpc-channel-modes.ts [rounds]
 * The same file is the server child (argv: serve <sim dir> <client domid> <mode>).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinSimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { ChannelTransport, RpcPeer } from '@xenipc/rpc';

type Mode = 'endpoint' | 'channel';
const MODES: Mode[] = ['channel', 'endpoint'];
const PIPELINED_CALLS = 50_000;
const ROUND_TRIPS = 3_000;

function transportFor(mode: Mode, endpoint: VchanEndpoint): ChannelTransport {
  return new ChannelTransport(mode === 'endpoint' ? endpoint : new MessageChannel(endpoint));
}

async function serve(dir: string, clientDomid: number, mode: Mode): Promise<void> {
  const backend = await joinSimulatedHost({ dir, autoStart: false });
  process.send?.({ domid: backend.domid });
  const endpoint = await VchanServer.listen(backend, { peer: clientDomid, port: mode });
  const peer = new RpcPeer(transportFor(mode, endpoint));
  peer.register('add', (a: number, b: number) => a + b);
  peer.on('close', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}

async function main(rounds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rpc-modes-'));
  const host = await startSimulatedHost({ dir });
  const backend = await joinSimulatedHost({ dir, autoStart: false });
  const connectMode = async (mode: Mode): Promise<RpcPeer> => {
    const child = fork(fileURLToPath(import.meta.url), ['serve', dir, String(backend.domid), mode],
      { execArgv: ['--conditions=xenipc-source', '--import', 'tsx'] });
    const serverDomid = await new Promise<number>((resolve) => child.once('message', (m: { domid: number }) => resolve(m.domid)));
    const endpoint = await VchanClient.connect(backend, { peer: serverDomid, port: mode });
    const peer = new RpcPeer(transportFor(mode, endpoint), { timeoutMs: 0 });
    peer.on('close', () => child.kill());
    return peer;
  };
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const peers = { channel: await connectMode('channel'), endpoint: await connectMode('endpoint') };
  const results = { channel: { rate: [] as number[], rtt: [] as number[] }, endpoint: { rate: [] as number[], rtt: [] as number[] } };
  for (let round = 0; round < rounds; round++) {
    for (const mode of round & 1 ? [...MODES].reverse() : MODES) {
      const peer = peers[mode];
      const started = performance.now();
      const calls: Promise<unknown>[] = new Array(PIPELINED_CALLS);
      for (let i = 0; i < PIPELINED_CALLS; i++) calls[i] = peer.call('add', i, 1);
      await Promise.all(calls);
      results[mode].rate.push(PIPELINED_CALLS / ((performance.now() - started) / 1000));
      const samples: number[] = [];
      for (let i = 0; i < ROUND_TRIPS; i++) {
        const sent = performance.now();
        await peer.call('add', i, 1);
        samples.push((performance.now() - sent) * 1000);
      }
      results[mode].rtt.push(median(samples));
    }
  }
  for (const mode of MODES) {
    console.log(`${mode.padEnd(8)} pipelined ${Math.round(median(results[mode].rate))} calls/s, round trip p50 ${median(results[mode].rtt).toFixed(2)} us (medians of ${rounds})`);
  }
  peers.channel.close();
  peers.endpoint.close();
  await host.close();
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === 'serve') {
  await serve(process.argv[3]!, Number(process.argv[4]), process.argv[5] as Mode);
} else {
  await main(Number(process.argv[2] ?? 5));
  process.exit(0);
}
