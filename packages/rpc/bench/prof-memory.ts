import { RpcPeer, createMemoryTransportPair } from '@xenipc/rpc';
const [a, b] = createMemoryTransportPair();
const client = new RpcPeer(a);
const server = new RpcPeer(b);
server.register('add', (x: number, y: number) => x + y);
for (let round = 0; round < 10; round++) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 100_000; i++) calls.push(client.call('add', i, 1));
  const sent = performance.now() - started;
  await Promise.all(calls);
  const c = process.cpuUsage(cpu);
  console.log(Math.round(100_000 / ((performance.now() - started) / 1000)), 'sent in', sent.toFixed(0), 'ms; cpu ms', ((c.user + c.system) / 1000).toFixed(0), 'wall', (performance.now() - started).toFixed(0));
}
