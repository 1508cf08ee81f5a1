/**
 * Quick in-process throughput check of the RpcPeer hot path (not a test): pipelined calls over the
 * in-memory transport pair and over a Unix socket pair in one process.
 * Run: node --conditions=xenipc-source --import tsx packages/rpc/bench/peer-throughput.ts
 */
import { mkdtempSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcPeer, createMemoryTransportPair, createStreamPeer } from '../.base/src/index.ts';

async function pipelined(client: RpcPeer, server: RpcPeer, count: number): Promise<number> {
  server.register('add', (a: number, b: number) => a + b);
  const started = performance.now();
  const calls: Promise<unknown>[] = new Array(count);
  for (let i = 0; i < count; i++) calls[i] = client.call('add', i, 1);
  await Promise.all(calls);
  return count / ((performance.now() - started) / 1000);
}

async function roundTrips(client: RpcPeer, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await client.call('add', i, 1);
  return ((performance.now() - started) * 1000) / count;
}

async function unixPair(): Promise<[Socket, Socket]> {
  const path = join(mkdtempSync(join(tmpdir(), 'rpc-bench-')), 's.sock');
  const server = createServer();
  await new Promise<void>((r) => server.listen(path, r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const b = connect(path);
  await new Promise<void>((r) => b.once('connect', r));
  return [await accepted, b];
}

for (let round = 0; round < 3; round++) {
  const [a, b] = createMemoryTransportPair();
  const mc = new RpcPeer(a);
  const ms = new RpcPeer(b);
  console.log(`memory: ${Math.round(await pipelined(mc, ms, 200_000))} calls/s pipelined, ${(await roundTrips(mc, 20_000)).toFixed(2)} us/round trip`);
  const [sa, sb] = await unixPair();
  const uc = createStreamPeer(sa);
  const us = createStreamPeer(sb);
  console.log(`unix (1 process): ${Math.round(await pipelined(uc, us, 200_000))} calls/s pipelined, ${(await roundTrips(uc, 20_000)).toFixed(2)} us/round trip`);
  uc.close();
  us.close();
}
