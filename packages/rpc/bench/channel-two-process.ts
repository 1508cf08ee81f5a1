/**
 * Pipelined calls and round trips between two processes over a vchan MessageChannel on a private
 * simulated host, next to the same over a Unix socket (diagnostic, several rounds).
 * Run: node --conditions=xenipc-source --import tsx packages/rpc/bench/channel-two-process.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinSimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient } from '@xenipc/channel';
import { ChannelTransport, RpcPeer, createStreamPeer } from '@xenipc/rpc';

const fixtures = new URL('../../../test/rpc/fixtures/', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'rpc-bench-'));
const host = await startSimulatedHost({ dir });
const backend = await joinSimulatedHost({ dir, autoStart: false });
const node = (file: string, args: string[]) => spawn(process.execPath, ['--conditions=xenipc-source', '--import', 'tsx', new URL(file, fixtures).pathname, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

const chChild = node('rpc-channel-server.fixture.ts', [dir, String(backend.domid), 'bench']);
const serverDomid = await new Promise<number>((r) => chChild.once('message', (m: { domid: number }) => r(m.domid)));
const channelPeer = new RpcPeer(new ChannelTransport(new MessageChannel(await VchanClient.connect(backend, { peer: serverDomid, port: 'bench' }))), { timeoutMs: 0 });

const sock = join(dir, 'rpc.sock');
const unixChild = node('rpc-server.fixture.ts', [sock]);
await new Promise((r) => unixChild.once('message', r));
const s = connect(sock);
await new Promise((r) => s.once('connect', r));
const unixPeer = createStreamPeer(s, { timeoutMs: 0 });

async function pipelined(peer: RpcPeer, n: number): Promise<number> {
  const t = performance.now();
  const calls: Promise<unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) calls[i] = peer.call('add', i, 1);
  await Promise.all(calls);
  return n / ((performance.now() - t) / 1000);
}
async function roundTrip(peer: RpcPeer, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await peer.call('add', i, 1);
    samples.push((performance.now() - t) * 1000);
  }
  samples.sort((a, b) => a - b);
  return [samples[n >> 1]!, samples[Math.floor(n * 0.99)]!];
}
for (let round = 0; round < 4; round++) {
  const ch = await pipelined(channelPeer, 100_000);
  const ux = await pipelined(unixPeer, 100_000);
  const chRt = await roundTrip(channelPeer, 5000);
  const uxRt = await roundTrip(unixPeer, 5000);
  console.log(`round ${round}: pipelined channel ${Math.round(ch)}/s unix ${Math.round(ux)}/s; round trip p50/p99 channel ${chRt.map((v) => v.toFixed(1)).join('/')} us, unix ${uxRt.map((v) => v.toFixed(1)).join('/')} us`);
}
channelPeer.close();
unixPeer.close();
chChild.kill();
unixChild.kill();
await host.close();
process.exit(0);
