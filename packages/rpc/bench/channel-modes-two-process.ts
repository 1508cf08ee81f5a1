/**
 * Round trips and pipelined calls between two processes over a vchan (simulated host), for
 * both ChannelTransport receive modes, interleaved: 'endpoint' (onFrame, in place) and
 * 'channel' ('message' events). Medians over rounds.
 * Run: node --conditions=xenipc-source --import tsx packages/rpc/bench/channel-modes-two-process.ts [rounds]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinSimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient } from '@xenipc/channel';
import { ChannelTransport, RpcPeer } from '@xenipc/rpc';

type Mode = 'endpoint' | 'channel';
const rounds = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'rpc-bench-'));
const host = await startSimulatedHost({ dir });
const backend = await joinSimulatedHost({ dir, autoStart: false });
const fixture = new URL('./rpc-channel-server.fixture.ts', import.meta.url).pathname;

async function connectMode(mode: Mode): Promise<RpcPeer> {
  const child = spawn(process.execPath, ['--conditions=xenipc-source', '--import', 'tsx', fixture, dir, String(backend.domid), mode, mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const serverDomid = await new Promise<number>((r) => child.once('message', (m: { domid: number }) => r(m.domid)));
  const endpoint = await VchanClient.connect(backend, { peer: serverDomid, port: mode });
  const peer = new RpcPeer(new ChannelTransport(mode === 'endpoint' ? endpoint : new MessageChannel(endpoint)), { timeoutMs: 0 });
  peer.on('close', () => child.kill());
  return peer;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const modes: Mode[] = ['channel', 'endpoint'];
const peers = { channel: await connectMode('channel'), endpoint: await connectMode('endpoint') };
const results = { channel: { rate: [] as number[], rtt: [] as number[] }, endpoint: { rate: [] as number[], rtt: [] as number[] } };
for (let round = 0; round < rounds; round++) {
  for (const mode of round & 1 ? [...modes].reverse() : modes) {
    const peer = peers[mode];
    const n = 50_000;
    const t = performance.now();
    const calls: Promise<unknown>[] = new Array(n);
    for (let i = 0; i < n; i++) calls[i] = peer.call('add', i, 1);
    await Promise.all(calls);
    results[mode].rate.push(n / ((performance.now() - t) / 1000));
    const samples: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = performance.now();
      await peer.call('add', i, 1);
      samples.push((performance.now() - s) * 1000);
    }
    results[mode].rtt.push(median(samples));
  }
}
for (const mode of modes) {
  console.log(`${mode.padEnd(8)} pipelined ${Math.round(median(results[mode].rate))} calls/s, round trip p50 ${median(results[mode].rtt).toFixed(2)} us (medians of ${rounds})`);
}
peers.channel.close();
peers.endpoint.close();
await host.close();
process.exit(0);
