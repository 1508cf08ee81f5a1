/**
 * Public entry points check their arguments synchronously, node:net style (TypeError
 * ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE); every error class carries a code; a peer
 * is an async disposable.
 */
import { describe, expect, it } from 'vitest';
import {
  ConnectionClosedError, RpcPeer, RpcTimeoutError, createMemoryTransportPair, type CallOptions, type RpcPeerOptions,
} from '../src/index.js';

const invalidType = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
const outOfRange = expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });

describe('argument validation', () => {
  it('rejects bad constructor arguments at once', () => {
    const [a] = createMemoryTransportPair();
    expect(() => new RpcPeer(undefined as never)).toThrow(invalidType);
    expect(() => new RpcPeer({} as never)).toThrow(invalidType);
    const bad: [RpcPeerOptions, unknown][] = [
      [{ timeoutMs: -1 }, outOfRange], [{ timeoutMs: '5' as never }, invalidType], [{ timeoutMs: Number.NaN }, outOfRange],
      [{ maxConcurrentHandlers: 0 }, outOfRange], [{ maxQueuedRequests: 1.5 }, outOfRange],
      [{ abandonedIdMemory: -1 }, outOfRange], [{ unknownExtensions: 'drop' as never }, invalidType],
      [{ errorFormat: 'json' as never }, invalidType], [{ rawStrings: 1 as never }, invalidType],
    ];
    for (const [options, expected] of bad) expect(() => new RpcPeer(a, options)).toThrow(expected as Error);
  });

  it('rejects bad transports and transport options at once', async () => {
    const { StreamTransport, MemoryTransport } = await import('../src/index.js');
    const { Duplex } = await import('node:stream');
    expect(() => new StreamTransport({} as never)).toThrow(invalidType);
    const duplex = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    expect(() => new StreamTransport(duplex, { maxMessageBytes: 0 })).toThrow(outOfRange);
    expect(() => new StreamTransport(duplex, { maxMessageValues: '9' as never })).toThrow(invalidType);
    expect(() => new StreamTransport(duplex, { highWaterMark: -1 })).toThrow(outOfRange);
    expect(() => new MemoryTransport(Number.POSITIVE_INFINITY)).toThrow(outOfRange);
    duplex.destroy();
  });

  it('rejects bad method names, handlers and call options synchronously, before anything is sent', () => {
    const [a, b] = createMemoryTransportPair();
    const peer = new RpcPeer(a);
    new RpcPeer(b);
    expect(() => peer.register(1 as never, () => {})).toThrow(invalidType);
    expect(() => peer.register('m', 'not a function' as never)).toThrow(invalidType);
    expect(() => peer.expose(null as never)).toThrow(invalidType);
    expect(() => peer.call(undefined as never)).toThrow(invalidType);
    expect(() => peer.notify({} as never)).toThrow(invalidType);
    expect(() => peer.callWith({ timeoutMs: -5 }, 'm')).toThrow(outOfRange);
    expect(() => peer.callWith({ signal: {} as AbortSignal }, 'm')).toThrow(invalidType);
    expect(() => peer.callWith(null as unknown as CallOptions, 'm')).toThrow(invalidType);
    expect(() => peer.proxy({ timeoutMs: 'x' as never })).toThrow(invalidType);
    expect(peer.stats.callsSent).toBe(0);
  });
});

describe('error codes and disposal', () => {
  it('RpcTimeoutError and ConnectionClosedError carry codes', async () => {
    const [a, b] = createMemoryTransportPair();
    const client = new RpcPeer(a);
    new RpcPeer(b).register('never', () => new Promise(() => {}));
    const timeout = await client.callWith({ timeoutMs: 5 }, 'never').catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(RpcTimeoutError);
    expect(timeout).toMatchObject({ code: 'ERR_RPC_TIMEOUT' });
    const pending = client.call('never').catch((e: unknown) => e);
    client.close();
    expect(await pending).toBeInstanceOf(ConnectionClosedError);
    expect(await pending).toMatchObject({ code: 'ERR_RPC_CONNECTION_CLOSED', reason: 'closed' });
  });

  it('an abort rejects with signal.reason itself', async () => {
    const [a, b] = createMemoryTransportPair();
    const client = new RpcPeer(a);
    new RpcPeer(b).register('never', () => new Promise(() => {}));
    const controller = new AbortController();
    const reason = new Error('user gave up');
    const call = client.callWith({ signal: controller.signal }, 'never');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
  });

  it('`await using` closes the peer at the end of the scope', async () => {
    const [a, b] = createMemoryTransportPair();
    const server = new RpcPeer(b);
    let inner: RpcPeer | undefined;
    {
      await using peer = new RpcPeer(a);
      inner = peer;
      expect(peer.isClosed).toBe(false);
    }
    expect(inner.closeReason).toBe('closed');
    expect(server.closeReason).toBe('peer-closed');
  });
});
