/**
 * Node conventions at the channel package's public entries (issue 14.5): bad arguments fail at
 * once with Node's codes (ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE), aborting rejects with
 * `signal.reason`, endpoints / channels / streams / accept loops are AsyncDisposable, errors
 * carry a `code`, and once everything is closed the channel layer leaves no timer behind.
 */
import { describe, expect, it } from 'vitest';
import { createLoopbackHost } from '@xenipc/sim';
import { ChannelClosedError, MessageChannel, VchanClient, VchanServer, VchanStream, type VchanEndpoint } from '@xenipc/channel';
import { loopbackPair } from './loopback-pair.js';

const invalidType = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
const outOfRange = expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });

describe('argument validation', () => {
  it('MessageChannel.send()/trySend() throw ERR_INVALID_ARG_TYPE at once for anything but a Uint8Array', async () => {
    const { host, server, client } = await loopbackPair();
    const mc = new MessageChannel(client);
    const rx = new MessageChannel(server);
    for (const bad of [123, {}, 'text', null, undefined, [1, 2], new ArrayBuffer(4), new Uint16Array(2)]) {
      expect(() => mc.send(bad as unknown as Uint8Array)).toThrow(invalidType);
      expect(() => mc.trySend(bad as unknown as Uint8Array)).toThrow(invalidType);
    }
    // Nothing reached the ring, and the channel still works.
    expect(server.dataReady).toBe(0);
    await mc.send(Buffer.from('ok'));
    const [first] = await Promise.all([rx[Symbol.asyncIterator]().next()]);
    expect(Buffer.from(first.value as Uint8Array).toString()).toBe('ok');
    await expect(mc.send(new Uint8Array(mc.maxMessageSize + 1))).rejects.toEqual(outOfRange);
    await Promise.all([mc.close(), rx.close()]);
    host.assertCleanedUp();
  });

  it('MessageChannel and VchanStream take only a VchanEndpoint and sane options', async () => {
    const { host, server, client } = await loopbackPair();
    for (const bad of [undefined, null, {}, 'endpoint', { consumer: {}, producer: {} }]) {
      expect(() => new MessageChannel(bad as unknown as VchanEndpoint)).toThrow(invalidType);
      expect(() => new VchanStream(bad as unknown as VchanEndpoint)).toThrow(invalidType);
    }
    expect(() => new MessageChannel(server, { maxMessageSize: -1 })).toThrow(outOfRange);
    expect(() => new MessageChannel(server, { maxMessageSize: '10' as unknown as number })).toThrow(invalidType);
    expect(() => new MessageChannel(server, { receiveQueueLimit: 0 })).toThrow(outOfRange);
    expect(() => new MessageChannel(server, { onMessage: 'f' as unknown as () => void })).toThrow(invalidType);
    expect(() => new MessageChannel(server, { onMessage: () => undefined, onFrame: () => undefined })).toThrow(invalidType);
    expect(() => new VchanStream(server, { readChunkSize: 0 })).toThrow(outOfRange);
    await Promise.all([server.close(), client.close()]);
    host.assertCleanedUp();
  });

  it('VchanClient.connect() rejects at once for a bad peer, port, timeout or signal', async () => {
    const host = createLoopbackHost();
    const backend = host.domain(2);
    const cases: Array<[Record<string, unknown>, unknown]> = [
      [{ peer: -1, port: 'p' }, outOfRange],
      [{ peer: 1.5, port: 'p' }, outOfRange],
      [{ peer: 0x7ff0, port: 'p' }, outOfRange],
      [{ peer: 'abc', port: 'p' }, invalidType],
      [{ port: 'p' }, invalidType],
      [{ peer: 1 }, invalidType],
      [{ peer: 1, port: 'no/slashes' }, expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' })],
      [{ peer: 1, port: -3 }, outOfRange],
      [{ peer: 1, port: 'p', timeoutMs: -1 }, outOfRange],
      [{ peer: 1, port: 'p', signal: 'stop' }, invalidType],
      [{ peer: 1, port: 'p', spinMicros: -5 }, outOfRange],
    ];
    for (const [options, error] of cases) {
      const started = performance.now();
      await expect(VchanClient.connect(backend, options as never)).rejects.toEqual(error);
      // "At once": no waiting on xenstore for a path that cannot exist (the default timeout is 10 s).
      expect(performance.now() - started).toBeLessThan(1000);
    }
    await expect(VchanClient.connect(undefined as never, { peer: 1, port: 'p' })).rejects.toEqual(invalidType);
    await expect(VchanClient.connect(backend, undefined as never)).rejects.toEqual(invalidType);
    await backend.close();
    host.assertCleanedUp();
  });

  it('VchanServer.listen() and serve() check their arguments before granting anything', async () => {
    const host = createLoopbackHost();
    const backend = host.domain(1);
    await expect(VchanServer.listen(backend, { peer: -1, port: 'p' })).rejects.toEqual(outOfRange);
    await expect(VchanServer.listen(backend, { peer: 2, port: 'p', readSize: 2 << 20 })).rejects.toEqual(outOfRange);
    await expect(VchanServer.listen(backend, { peer: 2, port: 'p', writeSize: '4096' as unknown as number })).rejects.toEqual(invalidType);
    await expect(VchanServer.listen(backend, { peer: 2, port: 'p', waitForClient: 'no' as unknown as boolean })).rejects.toEqual(invalidType);
    expect(() => VchanServer.serve(backend, { peer: 'x' as unknown as number, port: 'p' })).toThrow(invalidType);
    await backend.close();
    host.assertCleanedUp();
  });
});

describe('abort, dispose, codes', () => {
  it('aborting connect() or listen() rejects with signal.reason (already aborted, or while waiting)', async () => {
    const host = createLoopbackHost();
    const [one, two] = [host.domain(1), host.domain(2)];
    const reason = new Error('changed my mind');
    const pre = AbortSignal.abort(reason);
    await expect(VchanClient.connect(two, { peer: 1, port: 'a', signal: pre })).rejects.toBe(reason);
    await expect(VchanServer.listen(one, { peer: 2, port: 'a', signal: pre })).rejects.toBe(reason);

    const c = new AbortController();
    const connecting = VchanClient.connect(two, { peer: 1, port: 'b', signal: c.signal });
    const listening = VchanServer.listen(one, { peer: 3, port: 'b', signal: c.signal });
    c.abort(reason);
    await expect(connecting).rejects.toBe(reason);
    await expect(listening).rejects.toBe(reason);
    // The default reason is Node's AbortError DOMException.
    const d = new AbortController();
    const waiting = VchanClient.connect(two, { peer: 1, port: 'c', signal: d.signal });
    d.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    await Promise.all([one.close(), two.close()]);
    host.assertCleanedUp();
  });

  it('await using: endpoints, channels, streams and accept loops close at the end of the scope', async () => {
    const { host, serverBackend, clientBackend, server, client } = await loopbackPair();
    {
      await using mc = new MessageChannel(client);
      await using stream = new VchanStream(server);
      stream.on('error', () => undefined);
      expect(mc.closeReason).toBeUndefined();
    }
    expect(await client.closed()).toBe('closed');
    expect(await server.closed()).toBe('closed');
    {
      await using loop = VchanServer.serve(serverBackend, { peer: 2, port: 'disposed' });
      expect(typeof loop[Symbol.asyncIterator]).toBe('function');
    }
    {
      const pair = await loopbackPair();
      {
        await using a = pair.server;
        await using b = pair.client;
        expect(a.isOpen && b.isOpen).toBe(true);
      }
      pair.host.assertCleanedUp();
    }
    // The accept loop's pending listen was withdrawn: nothing is left published or granted.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([serverBackend.close(), clientBackend.close()]);
    host.assertCleanedUp();
  });

  it('errors the package produces carry a code', async () => {
    const { host, server, client } = await loopbackPair();
    const closed = new ChannelClosedError('host-gone');
    expect(closed.code).toBe('ECHANNELCLOSED');
    expect(closed.message).toMatch(/host/);
    await client.close();
    expect(() => client.write(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'ECHANNELCLOSED' }));
    const three = host.domain(3);
    const timeout = await VchanClient.connect(three, { peer: 1, port: 'nobody', timeoutMs: 10 }).catch((e: unknown) => e);
    expect(timeout).toMatchObject({ code: 'ETIMEDOUT' });
    await server.closed();
    await three.close();
    host.assertCleanedUp();
  });

  it('after everything is closed the channel layer has left no timer or immediate behind', async () => {
    const count = (): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) if (r === 'Timeout' || r === 'Immediate') out[r] = (out[r] ?? 0) + 1;
      return out;
    };
    // Let what earlier tests scheduled run out first, then count.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setImmediate(resolve));
    const before = count();
    const { host, server, client } = await loopbackPair();
    const tx = new MessageChannel(client);
    const rx = new MessageChannel(server, { onMessage: () => undefined });
    for (let i = 0; i < 1000; i++) await tx.send(new Uint8Array(100));
    const listener = host.domain(1);
    const waiting = VchanServer.listen(listener, { peer: 2, port: 'never', timeoutMs: 60_000 }).catch((e: unknown) => e);
    await Promise.all([tx.close(), rx.closed()]);
    await listener.close(); // ends the waiting listen (its xenstore goes): its timer must go too
    expect(await waiting).toMatchObject({ reason: 'host-gone' });
    await new Promise((resolve) => setImmediate(resolve));
    // Not more than before (vitest's own handles may come and go meanwhile, never ours).
    const after = count();
    expect(after['Timeout'] ?? 0).toBeLessThanOrEqual(before['Timeout'] ?? 0);
    expect(after['Immediate'] ?? 0).toBeLessThanOrEqual(before['Immediate'] ?? 0);
  });
});
