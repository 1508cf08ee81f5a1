/**
 * Round trip of a raw MessageChannel echo vs an RPC call over a MessageChannel, two processes on a
 * private simulated host: shows how much of an RPC round trip is the RPC layer.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinSimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient } from '@xenipc/channel';
import { ChannelTransport, RpcPeer } from '@xenipc/rpc';

const dir = mkdtempSync(join(tmpdir(), 'rpc-lat-'));
const host = await startSimulatedHost({ dir });
const backend = await joinSimulatedHost({ dir, autoStart: false });
const child = (file: URL, port: string) => spawn(process.execPath, ['--conditions=xenipc-source', '--import', 'tsx', file.pathname, dir, String(backend.domid), port], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
async function open(file: URL, port: string): Promise<MessageChannel> {
  const c = child(file, port);
  const domid = await new Promise<number>((r) => c.once('message', (m: { domid: number }) => r(m.domid)));
  return new MessageChannel(await VchanClient.connect(backend, { peer: domid, port }));
}
const raw = await open(new URL('./raw-channel-echo.fixture.ts', import.meta.url), 'raw');
const rpcChannel = await open(new URL('../../../test/rpc/fixtures/rpc-channel-server.fixture.ts', import.meta.url), 'rpc');
const rpc = new RpcPeer(new ChannelTransport(rpcChannel), { timeoutMs: 0 });
let wake: (() => void) | undefined;
raw.on('message', () => wake?.());
const ping = Uint8Array.of(0x94, 0, 0, 0xa3, 0x61, 0x64, 0x64, 0x92, 1, 2);
const pct = (s: number[]) => { s.sort((a, b) => a - b); return `${s[s.length >> 1]!.toFixed(1)}/${s[Math.floor(s.length * 0.99)]!.toFixed(1)}`; };
for (let round = 0; round < 4; round++) {
  const rawS: number[] = [];
  const rpcS: number[] = [];
  for (let i = 0; i < 5000; i++) {
    let t = performance.now();
    await new Promise<void>((r) => { wake = r; raw.trySend(ping); });
    rawS.push((performance.now() - t) * 1000);
    t = performance.now();
    await rpc.call('add', i, 1);
    rpcS.push((performance.now() - t) * 1000);
  }
  console.log(`round ${round}: p50/p99 raw channel echo ${pct(rawS)} us, rpc call ${pct(rpcS)} us`);
}
rpc.close();
await raw.close();
await host.close();
process.exit(0);
