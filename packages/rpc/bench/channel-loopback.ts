/** Pipelined calls over a MessageChannel on the in-process loopback host (diagnostic). */
import { createLoopbackHost } from '@xenipc/core';
import { MessageChannel, VchanClient, VchanServer } from '@xenipc/channel';
import { ChannelTransport, RpcPeer } from '@xenipc/rpc';

const host = createLoopbackHost();
const [serverEnd, clientEnd] = await Promise.all([
  VchanServer.listen(host.domain(1), { peer: 2, port: 'bench' }),
  VchanClient.connect(host.domain(2), { peer: 1, port: 'bench' }),
]);
const server = new RpcPeer(new ChannelTransport(new MessageChannel(serverEnd)));
const client = new RpcPeer(new ChannelTransport(new MessageChannel(clientEnd)));
server.register('add', (a: number, b: number) => a + b);
for (let round = 0; round < 5; round++) {
  const n = 50_000;
  const t = performance.now();
  const cpu = process.cpuUsage();
  const calls: Promise<unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) calls[i] = client.call('add', i, 1);
  await Promise.all(calls);
  const c = process.cpuUsage(cpu);
  console.log(`${Math.round(n / ((performance.now() - t) / 1000))} calls/s, cpu ${((c.user + c.system) / n).toFixed(2)} us/call`);
}
client.close();
