/**
 * CPU cost of receiving small frames in place (ChannelTransport over an endpoint): responses and
 * requests packed back to back in one buffer, as the channel's onFrame receive buffer holds
 * them, delivered through FrameDelivery.deliverInPlace into an RpcPeer with a send-nothing
 * transport. Run: node --conditions=xenipc-source --import tsx packages/rpc/bench/in-place-decode.ts
 */
import { pack } from 'msgpackr';
import { RpcPeer, type RpcTransport, type RpcTransportSink } from '@xenipc/rpc';
import { FrameDelivery } from '../src/transport/frame-delivery.js';

class NullTransport implements RpcTransport {
  readonly maxMessageBytes = 1 << 24;
  sink!: RpcTransportSink;
  attach(sink: RpcTransportSink): void { this.sink = sink; }
  send(): boolean { return true; }
  pause(): void {}
  resume(): void {}
  close(): void {}
}

function framesBuffer(messages: unknown[]): { bytes: Uint8Array; starts: number[]; ends: number[] } {
  const packed = messages.map((m) => pack(m));
  const bytes = new Uint8Array(packed.reduce((n, p) => n + p.length + 4, 0));
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const p of packed) {
    at += 4; // where the channel's length header would be
    bytes.set(p, at);
    starts.push(at);
    ends.push((at += p.length));
  }
  return { bytes, starts, ends };
}

const N = 4000;
const transport = new NullTransport();
const peer = new RpcPeer(transport, { timeoutMs: 0 });
peer.register('add', (a: number, b: number) => a + b);
const delivery = new FrameDelivery(transport.maxMessageBytes, transport.sink);
const requests = framesBuffer(Array.from({ length: N }, (_, i) => [0, i, 'add', [i, 1]]));
const cpuUs = (f: () => void): number => { const c = process.cpuUsage(); f(); const d = process.cpuUsage(c); return d.user + d.system; };
const serve: number[] = [];
const respond: number[] = [];
for (let round = 0; round < 40; round++) {
  serve.push(cpuUs(() => {
    for (let k = 0; k < 10; k++) for (let i = 0; i < N; i++) delivery.deliverInPlace(requests.bytes, requests.starts[i]!, requests.ends[i]!);
  }) / (10 * N));
  const base = peer.stats.callsSent;
  const calls: Promise<unknown>[] = new Array(N);
  for (let i = 0; i < N; i++) calls[i] = peer.call('add', i, 1);
  const responses = framesBuffer(Array.from({ length: N }, (_, i) => [1, base + i, null, i + 1]));
  respond.push(cpuUs(() => {
    for (let i = 0; i < N; i++) delivery.deliverInPlace(responses.bytes, responses.starts[i]!, responses.ends[i]!);
  }) / N);
  await Promise.all(calls);
}
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
console.log(`in place: serve-request ${(median(serve) * 1000).toFixed(0)} ns/frame, receive-response ${(median(respond) * 1000).toFixed(0)} ns/frame (medians of 40 rounds)`);
