/** CPU cost per call of each half of the hot path, with a transport that only records frames. */
import { pack } from 'msgpackr';
import { RpcPeer, type RpcTransport, type RpcTransportSink } from '../src/index.ts';

class NullTransport implements RpcTransport {
  readonly maxMessageBytes = 1 << 24;
  sink!: RpcTransportSink;
  frames: Uint8Array[] = [];
  keep = false;
  attach(sink: RpcTransportSink): void { this.sink = sink; }
  send(m: Uint8Array): boolean { if (this.keep) this.frames.push(m); return true; }
  pause(): void {}
  resume(): void {}
  close(): void {}
}
const cpuUs = (f: () => void): number => { const c = process.cpuUsage(); f(); const d = process.cpuUsage(c); return d.user + d.system; };
const N = 200_000;
const t = new NullTransport();
const peer = new RpcPeer(t);
peer.register('add', (a: number, b: number) => a + b);
const requests = Array.from({ length: N }, (_, i) => pack([0, i, 'add', [i, 1]]));
for (let round = 0; round < 5; round++) {
  const responses = Array.from({ length: N }, (_, i) => pack([1, round * N + i, null, i + 1]));
  const calls: Promise<unknown>[] = new Array(N);
  const send = cpuUs(() => { for (let i = 0; i < N; i++) calls[i] = peer.call('add', i, 1); });
  const recv = cpuUs(() => { for (let i = 0; i < N; i++) { const r = responses[i]!; t.sink.message(r, 0, r.length); } });
  await Promise.allSettled(calls);
  const serve = cpuUs(() => { for (let i = 0; i < N; i++) { const r = requests[i]!; t.sink.message(r, 0, r.length); } });
  console.log(`send ${(send / N).toFixed(2)} us/call, receive-response ${(recv / N).toFixed(2)} us, serve-request ${(serve / N).toFixed(2)} us; settled ${peer.stats.callsSucceeded}`);
}
