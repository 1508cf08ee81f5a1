import * as base from '../.base/src/index.ts';
import * as next from '../src/index.ts';
async function run(lib: typeof next, n: number): Promise<number> {
  const [a, b] = lib.createMemoryTransportPair();
  const client = new lib.RpcPeer(a);
  const server = new lib.RpcPeer(b);
  server.register('add', (x: number, y: number) => x + y);
  const cpu = process.cpuUsage();
  const calls: Promise<unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) calls[i] = client.call('add', i, 1);
  await Promise.all(calls);
  const c = process.cpuUsage(cpu);
  client.close();
  return (c.user + c.system) / n;
}
for (let r = 0; r < 6; r++) {
  const b = await run(base as unknown as typeof next, 100_000);
  const n = await run(next, 100_000);
  console.log(`cpu us/call: base ${b.toFixed(2)}  new ${n.toFixed(2)}`);
}
