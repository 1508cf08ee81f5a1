/**
 * Pipelined calls and round trips over a MessageChannel on the in-process loopback host
 * (diagnostic: both peers in one process, so this is mostly the CPU cost of a call).
 * Compares the two ChannelTransport receive modes, interleaved, and prints medians:
 * `endpoint` (transport opens the channel, onFrame, decoded in place) and `channel`
 * ('message' events, one Uint8Array per message).
 * Run: node --conditions=xenipc-source --import tsx packages/rpc/bench/channel-loopback.ts [rounds] [endpoint,channel]
 * (one mode per process gives steadier numbers: both in one process share JIT feedback)
 */
import { createLoopbackHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { ChannelTransport, RpcPeer } from '@xenipc/rpc';

type Mode = 'endpoint' | 'channel';
const rounds = Number(process.argv[2] ?? 7);
const modes = (process.argv[3] ?? 'channel,endpoint').split(',') as Mode[];
const host = createLoopbackHost();
let port = 0;

async function pair(mode: Mode): Promise<[RpcPeer, RpcPeer]> {
  const name = `bench-${port++}`;
  const [serverEnd, clientEnd] = await Promise.all([
    VchanServer.listen(host.domain(1), { peer: 2, port: name }),
    VchanClient.connect(host.domain(2), { peer: 1, port: name }),
  ]);
  const transport = (e: VchanEndpoint) => new ChannelTransport(mode === 'endpoint' ? e : new MessageChannel(e));
  const server = new RpcPeer(transport(serverEnd));
  const client = new RpcPeer(transport(clientEnd), { timeoutMs: 0 });
  server.register('add', (a: number, b: number) => a + b);
  return [client, server];
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const results: Record<Mode, { rate: number[]; cpu: number[]; rtt: number[] }> = {
  endpoint: { rate: [], cpu: [], rtt: [] },
  channel: { rate: [], cpu: [], rtt: [] },
};
const peers = {} as Record<Mode, [RpcPeer, RpcPeer]>;
for (const mode of modes) peers[mode] = await pair(mode);
for (let round = 0; round < rounds; round++) {
  for (const mode of round & 1 ? [...modes].reverse() : modes) {
    const [client] = peers[mode];
    const n = 50_000;
    const t = performance.now();
    const cpu = process.cpuUsage();
    const calls: Promise<unknown>[] = new Array(n);
    for (let i = 0; i < n; i++) calls[i] = client.call('add', i, 1);
    await Promise.all(calls);
    const c = process.cpuUsage(cpu);
    results[mode].rate.push(n / ((performance.now() - t) / 1000));
    results[mode].cpu.push((c.user + c.system) / n);
    const samples: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = performance.now();
      await client.call('add', i, 1);
      samples.push((performance.now() - s) * 1000);
    }
    results[mode].rtt.push(median(samples));
  }
}
for (const mode of modes) {
  const r = results[mode];
  console.log(`${mode.padEnd(8)} pipelined ${Math.round(median(r.rate))} calls/s, cpu ${median(r.cpu).toFixed(2)} us/call, round trip p50 ${median(r.rtt).toFixed(2)} us (medians of ${rounds})`);
}
for (const mode of modes) peers[mode][0].close();
