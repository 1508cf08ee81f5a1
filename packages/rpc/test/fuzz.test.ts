/**
 * Random and mutated input must never crash a peer: every frame is either served or counted as
 * bad input. Size: XENIPC_FUZZ_FRAMES (default 100,000) frames per mode; seed: XENIPC_FUZZ_SEED.
 */
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { RpcPeer, type RpcTransport, type RpcTransportSink } from '../src/index.js';
import { StreamFramer } from '../src/transport/stream-framer.js';
import { seededRandom as rng } from './seeded-random.js';

const FRAMES = Number(process.env.XENIPC_FUZZ_FRAMES ?? 100_000);
const SEED = Number(process.env.XENIPC_FUZZ_SEED ?? 20261126);

/** Captures what the peer sends and hands the test the sink to feed. */
class CaptureTransport implements RpcTransport {
  sink!: RpcTransportSink;
  sent: Uint8Array[] = [];
  constructor(readonly maxMessageBytes: number) {}
  attach(sink: RpcTransportSink): void { this.sink = sink; }
  send(message: Uint8Array): boolean { this.sent.push(message); return true; }
  pause(): void {}
  resume(): void {}
  close(): void { this.sink.closed('closed'); }
}

function makeGenerator(random: () => number) {
  const int = (n: number): number => Math.floor(random() * n);
  const value = (depth: number): unknown => {
    switch (int(depth > 3 ? 6 : 9)) {
      case 0: return int(300) - 100;
      case 1: return random() * 1e6;
      case 2: return 'x'.repeat(int(40));
      case 3: return null;
      case 4: return random() < 0.5;
      case 5: return new Uint8Array(int(20));
      case 6: return Array.from({ length: int(5) }, () => value(depth + 1));
      case 7: return Object.fromEntries(Array.from({ length: int(4) }, (_, i) => [['__proto__', 'constructor', `k${i}`][int(3)], value(depth + 1)]));
      default: return 2 ** 40 + int(1000);
    }
  };
  const methods = ['echo', 'throw', 'async', 'missing'];
  const message = (): Uint8Array => {
    const kind = int(4);
    const params = Array.from({ length: int(4) }, () => value(0));
    if (kind === 0) return pack([0, int(2 ** 32), methods[int(4)], params]);
    if (kind === 1) return pack([1, int(2 ** 32), random() < 0.3 ? { name: 'E', message: 'm' } : null, value(0)]);
    if (kind === 2) return pack([2, methods[int(4)], params]);
    return pack(value(0));
  };
  const mutate = (bytes: Uint8Array): Uint8Array => {
    const out = Uint8Array.from(bytes);
    switch (int(7)) {
      case 0: return out; // intact
      case 1: for (let i = 0; i < 1 + int(3); i++) out[int(out.length)] = int(256); return out;
      case 2: return out.subarray(0, int(out.length));
      case 3: return Uint8Array.from([...out, ...Array.from({ length: 1 + int(4) }, () => int(256))]);
      case 4: return Uint8Array.from(Array.from({ length: 1 + int(30) }, () => int(256)));
      case 5: { const at = int(out.length); return Uint8Array.from([...out.subarray(0, at), int(256), ...out.subarray(at)]); }
      default: { out[int(out.length)] = [0xc1, 0xd4, 0xc7, 0xdd, 0xdf, 0xdb][int(6)]!; return out; }
    }
  };
  return { message, mutate, int };
}

function servingPeer(transport: RpcTransport): RpcPeer {
  const peer = new RpcPeer(transport, { timeoutMs: 0 });
  peer.register('echo', (...params: unknown[]) => params);
  peer.register('throw', () => { throw new Error('thrown'); });
  peer.register('async', async (...params: unknown[]) => params.length);
  peer.on('handler-error', () => {});
  return peer;
}

describe(`fuzz: ${FRAMES} random or mutated frames (XENIPC_FUZZ_FRAMES)`, () => {
  it('frame mode (channel-like transports): no crash, every bad frame counted, still serving', async () => {
    const random = rng(SEED);
    const gen = makeGenerator(random);
    const [{ MemoryTransport }] = await Promise.all([import('../src/transport/memory-transport.js')]);
    const serverSide = new MemoryTransport(4096);
    const clientSide = new MemoryTransport(4096);
    serverSide.other = clientSide;
    clientSide.other = serverSide;
    const server = servingPeer(serverSide);
    let responses = 0;
    clientSide.attach({ message: () => { responses++; }, malformed: () => {}, drain: () => {}, closed: () => {} });
    for (let i = 0; i < FRAMES; i++) {
      serverSide.receive(gen.mutate(gen.message()));
      if (i % 5000 === 4999) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 20));
    const s = server.stats;
    expect(server.isClosed).toBe(false);
    // each frame was a request, notification, response (matched or not) or counted as malformed
    expect(s.requestsReceived + s.notificationsReceived + s.unknownResponses + s.malformed).toBe(FRAMES);
    expect(s.malformed).toBeGreaterThan(FRAMES / 10);
    expect(responses).toBe(s.responsesSent);
    expect((Object.prototype as Record<string, unknown>).k0).toBeUndefined();
    // and it still answers a clean request
    const before = responses;
    serverSide.receive(pack([0, 1, 'echo', ['alive']]));
    await new Promise((r) => setTimeout(r, 5));
    expect(responses).toBe(before + 1);
  });

  it('stream mode: framing loss ends only that connection; no exception escapes', () => {
    const random = rng(SEED ^ 0x5bd1e995);
    const gen = makeGenerator(random);
    let transport = new CaptureTransport(4096);
    let peer = servingPeer(transport);
    let lostCount = 0;
    let connections = 1;
    let served = 0;
    let framer: StreamFramer;
    const reconnect = (): void => {
      served += peer.stats.requestsReceived;
      transport = new CaptureTransport(4096);
      peer = servingPeer(transport);
      connections++;
      framer = new StreamFramer(4096, transport.sink, onLost);
    };
    const onLost = (): void => { lostCount++; transport.sink.closed('protocol-error'); reconnect(); };
    framer = new StreamFramer(4096, transport.sink, onLost);
    let frames = 0;
    while (frames < FRAMES) {
      // a burst of frames split at random points, as a socket would deliver them
      const burst: Uint8Array[] = [];
      for (let k = 0; k < 20 && frames < FRAMES; k++, frames++) {
        burst.push(random() < 0.9 ? gen.message() : gen.mutate(gen.message()));
      }
      const bytes = Buffer.concat(burst);
      let at = 0;
      while (at < bytes.length) {
        const size = 1 + gen.int(200);
        framer.push(bytes.subarray(at, at + size));
        at += size;
      }
    }
    served += peer.stats.requestsReceived;
    expect(lostCount).toBeGreaterThan(0);
    expect(connections).toBe(lostCount + 1);
    expect(served).toBeGreaterThan(FRAMES / 10);
    // the connection in use still works
    const fresh = new CaptureTransport(4096);
    const check = servingPeer(fresh);
    const f = new StreamFramer(4096, fresh.sink, () => { throw new Error('unexpected framing loss'); });
    f.push(pack([0, 9, 'echo', [1, 'two']]));
    expect(unpack(fresh.sent[0]!)).toEqual([1, 9, null, [1, 'two']]);
    expect(check.stats.requestsReceived).toBe(1);
  });
});
