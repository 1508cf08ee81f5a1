import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionClosedError, MemoryTransport, RpcPeer, StreamTransport, createMemoryTransportPair, type ProtocolErrorEvent,
} from '../src/index.js';
import { handEncode } from './hand-msgpack.js';
import { unixSocketPair } from './socket-pair.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

const disposers: (() => void)[] = [];
afterEach(() => { for (const d of disposers.splice(0)) d(); });

async function duplexPair(): Promise<[Socket, Socket]> {
  const { a, b, dispose } = await unixSocketPair();
  disposers.push(dispose);
  return [a, b];
}

describe('bad input over a message transport (message dropped, connection kept)', () => {
  it('counts each kind of bad frame, answers readable bad requests, and keeps serving', async () => {
    const [clientSide, serverSide] = createMemoryTransportPair(1024);
    const client = new RpcPeer(clientSide);
    const server = new RpcPeer(serverSide);
    server.register('echo', (v: unknown) => v);
    const events: ProtocolErrorEvent[] = [];
    server.on('protocol-error', (e) => events.push(e));
    const inject = (bytes: number[] | Uint8Array): void => serverSide.receive(Uint8Array.from(bytes));
    inject([0xc1]); // never-used byte
    inject([...handEncode([0, 1, 'echo', [1]]), 0x00]); // trailing byte
    inject(handEncode([0, 1, 'echo', [1]]).slice(0, 5)); // truncated
    inject(new Uint8Array(2000)); // oversized (limit 1024)
    inject([0x92, 0xd4, 0x72, 0x00, 0x01]); // msgpackr records extension
    inject([0x91, 0xd4, 0x42, 0x01]); // msgpackr BigInt extension
    inject([0x94, 0x00, 0x07, 0xa1, 0x78, 0x91, 0xd5, 0xff, 0x00, 0x00]); // a 2-byte timestamp (ext -1) inside params: undecodable
    inject(handEncode('just a string'));
    inject(handEncode([9, 1, 2]));
    inject(handEncode([1, 12345, null, 'nobody asked'])); // response to an unknown id
    inject(handEncode([0, -1, 'echo', []])); // msgid not a u32: dropped without reply
    inject(handEncode([0, 77, 42, []])); // method not a string: InvalidRequest reply to 77
    inject(handEncode([2, 'echo'])); // notification of the wrong length
    await tick();
    const s = server.stats;
    expect({ oversized: s.oversized, notMsgpack: s.notMsgpack, records: s.privateExtension, decode: s.decodeErrors, shape: s.badShape, unknown: s.unknownResponses })
      .toEqual({ oversized: 1, notMsgpack: 3, records: 2, decode: 1, shape: 5, unknown: 1 });
    expect(s.malformed).toBe(12);
    expect(events.map((e) => e.kind)).toContain('unknown-response');
    // the InvalidRequest replies for msgid 7 (undecodable) and 77 (bad method) reached the client
    expect(client.stats.unknownResponses).toBe(2);
    await expect(client.call('echo', 'still fine')).resolves.toBe('still fine');
  });

  it('never lets a decoded map reach Object.prototype', async () => {
    const [clientSide, serverSide] = createMemoryTransportPair();
    const client = new RpcPeer(clientSide);
    const server = new RpcPeer(serverSide);
    let received: Record<string, unknown> | undefined;
    server.register('take', (v: Record<string, unknown>) => { received = v; return Object.keys(v); });
    // build the frame by hand: a literal with a __proto__ key would not survive a JS object
    const frame = [0x94, 0x00, 0x05, ...handEncode('take'), 0x91, 0x83,
      ...handEncode('__proto__'), ...handEncode({ polluted: 'yes' }),
      ...handEncode('constructor'), ...handEncode({ prototype: { polluted: 'yes' } }),
      ...handEncode('ok'), 0x01];
    clientSide.send(Uint8Array.from(frame));
    await tick();
    expect(received).toBeDefined();
    expect(Object.getPrototypeOf(received)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(received!.ok).toBe(1);
    expect(client.stats.unknownResponses).toBe(1); // msgid 5 was never a call of the client
  });
});

describe('hostile nesting', () => {
  it('drops a message nested 500,000 deep (decoder stack overflow) and keeps serving, on a stream too', async () => {
    const [ours, theirs] = await duplexPair();
    const server = new RpcPeer(new StreamTransport(ours));
    server.register('echo', (v: unknown) => v);
    const client = new RpcPeer(new StreamTransport(theirs));
    const deep = new Uint8Array(500_001).fill(0x91);
    deep[500_000] = 0x01;
    theirs.write(deep);
    await expect(client.call('echo', 'alive')).resolves.toBe('alive');
    expect(server.stats.decodeErrors + server.stats.badShape).toBe(1);
    expect(server.isClosed).toBe(false);
  });
});

describe('bad input over a byte stream (framing lost: connection dropped)', () => {
  it('closes with protocol-error on a non-MessagePack byte and rejects pending calls', async () => {
    const [ours, theirs] = await duplexPair();
    const client = new RpcPeer(new StreamTransport(ours));
    const pending = client.call('anything');
    theirs.write(Uint8Array.of(0x91, 0xc1));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as ConnectionClosedError).reason).toBe('protocol-error');
  });

  it('closes with protocol-error as soon as a header announces an oversized message', async () => {
    const [ours, theirs] = await duplexPair();
    const client = new RpcPeer(new StreamTransport(ours, { maxMessageBytes: 4096 }));
    const closed = new Promise<ConnectionClosedError>((resolve) => client.on('close', resolve));
    theirs.write(Uint8Array.of(0xc6, 0x10, 0x00, 0x00, 0x00)); // bin32 of 256 MiB, no payload sent
    expect((await closed).reason).toBe('protocol-error');
  });

  it('drops only the message for decode and shape errors on a stream', async () => {
    const [ours, theirs] = await duplexPair();
    const server = new RpcPeer(new StreamTransport(ours));
    server.register('echo', (v: unknown) => v);
    const client = new RpcPeer(new StreamTransport(theirs));
    theirs.write(Uint8Array.from([...handEncode([7]), 0x94, 0x00, 0x01, 0xa1, 0x78, 0x91, 0xd5, 0xff, 0x00, 0x00, 0x91, 0xd4, 0x72, 0x00]));
    await expect(client.call('echo', 'ok')).resolves.toBe('ok');
    expect(server.stats.badShape).toBe(1);
    expect(server.stats.decodeErrors).toBe(1);
    expect(server.stats.privateExtension).toBe(1);
    expect(server.isClosed).toBe(false);
  });
});

describe('backpressure', () => {
  it('bounds running handlers and the queue, pausing delivery instead of growing', async () => {
    const [clientSide, serverSide] = createMemoryTransportPair();
    const client = new RpcPeer(clientSide);
    const server = new RpcPeer(serverSide, { maxConcurrentHandlers: 4, maxQueuedRequests: 8 });
    const release: (() => void)[] = [];
    let maxRunning = 0;
    let maxQueued = 0;
    server.register('slow', (i: number) => new Promise((resolve) => {
      maxRunning = Math.max(maxRunning, server.runningHandlers + 1);
      maxQueued = Math.max(maxQueued, server.queuedRequests);
      release.push(() => resolve(i));
    }));
    const calls = Array.from({ length: 500 }, (_, i) => client.call<number>('slow', i));
    await tick(20);
    expect(server.runningHandlers).toBe(4);
    expect(server.queuedRequests).toBeLessThanOrEqual(8);
    expect(server.stats.pauses).toBeGreaterThanOrEqual(1);
    // release handlers as they start until everything finished
    const done = Promise.all(calls);
    let finished = false;
    void done.then(() => { finished = true; });
    while (!finished) {
      for (const r of release.splice(0)) r();
      await tick(1);
    }
    expect(await done).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(maxRunning).toBeLessThanOrEqual(4);
    expect(maxQueued).toBeLessThanOrEqual(16);
    expect(server.stats.overloaded).toBe(0);
  });

  it('holds unread requests in the stream framer once the queue is full (pause is immediate)', async () => {
    const [ours, theirs] = await duplexPair();
    const server = new RpcPeer(new StreamTransport(ours), { maxConcurrentHandlers: 1, maxQueuedRequests: 2 });
    server.register('hang', () => new Promise(() => {}));
    const client = new RpcPeer(new StreamTransport(theirs));
    for (let i = 0; i < 10; i++) void client.call('hang').catch(() => {});
    await tick(50);
    expect(server.runningHandlers).toBe(1);
    expect(server.queuedRequests).toBe(2);
    expect(server.stats.requestsReceived).toBe(3);
    expect(server.stats.overloaded).toBe(0);
  });

  it('pauses and resumes a socket under a sustained flood; every call completes, the queue stays bounded', async () => {
    const [ours, theirs] = await duplexPair();
    const server = new RpcPeer(new StreamTransport(ours), { maxConcurrentHandlers: 8, maxQueuedRequests: 16 });
    let maxQueued = 0;
    server.register('later', (i: number) => new Promise((resolve) => {
      maxQueued = Math.max(maxQueued, server.queuedRequests);
      setImmediate(() => resolve(i));
    }));
    const client = new RpcPeer(new StreamTransport(theirs));
    const results = await Promise.all(Array.from({ length: 5000 }, (_, i) => client.call<number>('later', i)));
    expect(results.every((r, i) => r === i)).toBe(true);
    expect(server.stats.pauses).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(16);
    expect(server.stats.overloaded).toBe(0);
  });

  it('answers Overloaded beyond twice the queue bound when the transport cannot pause at once', async () => {
    class NoPauseTransport extends MemoryTransport {
      override pause(): void {}
    }
    const clientSide = new MemoryTransport();
    const serverSide = new NoPauseTransport();
    clientSide.other = serverSide;
    serverSide.other = clientSide;
    const client = new RpcPeer(clientSide);
    const server = new RpcPeer(serverSide, { maxConcurrentHandlers: 1, maxQueuedRequests: 2 });
    server.register('hang', () => new Promise(() => {}));
    const calls = Array.from({ length: 10 }, () => client.call('hang').catch((e: unknown) => e));
    const refused = await Promise.all(calls.slice(5));
    for (const e of refused) expect(e).toMatchObject({ name: 'Overloaded' });
    expect(server.stats.overloaded).toBe(5);
    expect(server.queuedRequests).toBe(4);
  });

  it('drops a peer that sends requests but never reads the responses (peer-not-reading)', async () => {
    const [ours, theirs] = await duplexPair();
    const server = new RpcPeer(new StreamTransport(ours, { maxBufferedBytes: 256 * 1024 }));
    server.register('big', () => 'x'.repeat(4096));
    const closed = new Promise<ConnectionClosedError>((resolve) => server.on('close', resolve));
    theirs.pause(); // never read
    const request = Uint8Array.from(handEncode([0, 1, 'big', []]));
    for (let i = 0; i < 4000; i++) theirs.write(request);
    const error = await closed;
    expect(error.reason).toBe('peer-not-reading');
    expect(server.stats.responsesSent).toBeLessThan(4000);
  });
});

describe('values per message are bounded (decode cost is per value, not per byte)', () => {
  /** [0, 1, 'echo', [count copies of `item`]] */
  function request(count: number, item: number[]): Uint8Array {
    const head = [0x94, 0x00, 0x01, 0xa4, 0x65, 0x63, 0x68, 0x6f, 0x91, 0xdd, (count >>> 24) & 0xff, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff];
    const bytes = new Uint8Array(head.length + count * item.length);
    bytes.set(head);
    for (let i = 0, at = head.length; i < count; i++, at += item.length) bytes.set(item, at);
    return bytes;
  }

  it('drops a frame with more than DEFAULT_MAX_MESSAGE_VALUES values (ext values weigh 4) before decoding it', async () => {
    const { DEFAULT_MAX_MESSAGE_VALUES } = await import('../src/index.js');
    const [clientSide, serverSide] = createMemoryTransportPair();
    const client = new RpcPeer(clientSide);
    const server = new RpcPeer(serverSide);
    let echoed = 0;
    server.register('echo', () => ++echoed);
    serverSide.receive(request(DEFAULT_MAX_MESSAGE_VALUES, [0x00])); // + the envelope's values: over
    serverSide.receive(request(DEFAULT_MAX_MESSAGE_VALUES / 4, [0xd4, 0x05, 0x00])); // ext values: over
    serverSide.receive(request(DEFAULT_MAX_MESSAGE_VALUES / 2, [0x00])); // within
    await expect(client.call('echo')).resolves.toBe(2);
    expect(server.stats.oversized).toBe(2);
  });

  it('skips such a message on a stream without losing framing', async () => {
    const [ours, theirs] = await duplexPair();
    const server = new RpcPeer(new StreamTransport(ours, { maxMessageValues: 1000 }));
    server.register('echo', () => 'ok');
    const client = new RpcPeer(new StreamTransport(theirs));
    theirs.write(request(2000, [0x00]));
    await expect(client.call('echo')).resolves.toBe('ok');
    expect(server.stats.oversized).toBe(1);
    expect(server.isClosed).toBe(false);
  });
});
