import { describe, expect, it, vi } from 'vitest';
import { ChannelClosedError, MessageChannel, type CloseReason } from '@xenipc/channel';
import { loopbackPair, nextTurn, patternBytes } from './loopback-pair.js';

function checksum(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ (data[i] as number), 0x01000193);
  return h >>> 0;
}

describe('MessageChannel on the loopback host', () => {
  for (const [ring, sizes] of [
    [1024, [0, 1, 16, 1020, 1021, 4000, 100_000]],
    [65536, [0, 16, 65532, 65533, 200_000]],
  ] as const) {
    it(`delivers small, ring-sized and larger-than-ring messages intact and in order (ring ${ring})`, async () => {
      const { host, server, client } = await loopbackPair({ readSize: ring, writeSize: ring });
      const tx = new MessageChannel(client);
      const rx = new MessageChannel(server);
      const messages = sizes.flatMap((size, i) => [patternBytes(i + 1, size), patternBytes(i + 100, size)]);
      const sending = Promise.all(messages.map((m) => tx.send(m)));
      const got: Uint8Array[] = [];
      for await (const m of rx) {
        got.push(m);
        if (got.length === messages.length) break; // break closes rx (iterator return)
      }
      await sending;
      expect(got.map((m) => m.length)).toEqual(messages.map((m) => m.length));
      expect(got.map(checksum)).toEqual(messages.map(checksum));
      expect(await tx.closed()).toBe('peer-closed');
      await tx.close();
      host.assertCleanedUp();
    });
  }

  it('trySend in a hot loop, callback receive, no loss, batched publication', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 4096, writeSize: 4096 });
    const tx = new MessageChannel(client);
    let received = 0;
    let sum = 0;
    const rx = new MessageChannel(server, {
      onMessage: (m) => {
        received++;
        sum += m[0] as number;
      },
    });
    const total = 50_000;
    const msg = new Uint8Array(16);
    let sent = 0;
    let expectedSum = 0;
    while (sent < total) {
      msg[0] = sent & 0xff;
      if (tx.trySend(msg)) {
        expectedSum += sent & 0xff;
        sent++;
      } else await nextTurn();
    }
    while (received < total) await nextTurn();
    expect(received).toBe(total);
    expect(sum).toBe(expectedSum);
    await tx.close();
    expect(await rx.closed()).toBe('peer-closed');
    host.assertCleanedUp();
  });

  it('close() right after trySend(): the peer still gets every message trySend() accepted', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 4096, writeSize: 4096 });
    const tx = new MessageChannel(client);
    let received = 0;
    const rx = new MessageChannel(server, { onMessage: () => received++ });
    let accepted = 0;
    while (accepted < 50 && tx.trySend(new Uint8Array(8))) accepted++;
    await tx.close(); // same task: nothing published yet by the end-of-task flush
    expect(await rx.closed()).toBe('peer-closed');
    expect(received).toBe(accepted);
    host.assertCleanedUp();
  });

  it('trySend refuses what does not fit and queues behind pending sends', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 2048 });
    const tx = new MessageChannel(client);
    expect(tx.trySend(new Uint8Array(1020))).toBe(true);
    expect(tx.trySend(new Uint8Array(1))).toBe(false);
    const pending = tx.send(new Uint8Array(10));
    const rx = new MessageChannel(server);
    const it = rx[Symbol.asyncIterator]();
    expect((await it.next()).value?.length).toBe(1020);
    await pending;
    expect((await it.next()).value?.length).toBe(10);
    expect(() => tx.trySend(new Uint8Array(17 * 1024 * 1024))).toThrow(RangeError);
    await rx.close();
    await tx.closed();
    host.assertCleanedUp();
  });

  it('a peer crash: every committed message first, then close(peer-crashed); sends fail', async () => {
    const { host, server, client } = await loopbackPair();
    const tx = new MessageChannel(client);
    for (let i = 0; i < 100; i++) expect(tx.trySend(patternBytes(i + 1, 100))).toBe(true);
    tx.flush();
    const rx = new MessageChannel(server);
    host.crash(2);
    const got: Uint8Array[] = [];
    let error: unknown;
    try {
      for await (const m of rx) got.push(m);
    } catch (err) {
      error = err;
    }
    expect(got.length).toBe(100);
    expect(got.every((m, i) => checksum(m) === checksum(patternBytes(i + 1, 100)))).toBe(true);
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).reason).toBe('peer-crashed');
    expect(rx.closeReason).toBe('peer-crashed');
    await expect(rx.send(new Uint8Array(1))).rejects.toMatchObject({ reason: 'peer-crashed' });
    host.assertCleanedUp();
  });

  it('a message over maxMessageSize is a protocol error that closes the channel', async () => {
    const { host, server, client } = await loopbackPair();
    const tx = new MessageChannel(client);
    const rx = new MessageChannel(server, { maxMessageSize: 100 });
    const reasons: CloseReason[] = [];
    rx.on('close', (r) => reasons.push(r));
    await tx.send(new Uint8Array(101));
    expect(await rx.closed()).toBe('protocol-error');
    await expect(rx[Symbol.asyncIterator]().next()).rejects.toMatchObject({ reason: 'protocol-error' });
    expect(await tx.closed()).toBe('peer-closed');
    await tx.close();
    host.assertCleanedUp();
  });

  it('pause() stops delivery (the sender feels it), resume() delivers the rest, even after the peer closed', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const tx = new MessageChannel(client);
    const got: number[] = [];
    const rx = new MessageChannel(server, { onMessage: (m) => got.push(m[0] as number) });
    rx.pause();
    let sent = 0;
    while (tx.trySend(new Uint8Array([sent, 0, 0, 0, 0, 0, 0, 0]))) sent++;
    tx.flush();
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(got).toEqual([]);
    expect(sent).toBe(1024 / 12 | 0); // the ring is full and stays full
    await tx.close();
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(rx.closeReason).toBe('peer-closed');
    expect(got).toEqual([]);
    rx.resume();
    expect(await rx.closed()).toBe('peer-closed');
    expect(got).toEqual([...Array(sent).keys()]);
    host.assertCleanedUp();
  });

  it('backpressure: an unread iterator stops draining the ring, so the sender waits', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 4096, writeSize: 4096 });
    const tx = new MessageChannel(client);
    const rx = new MessageChannel(server, { receiveQueueLimit: 4 });
    let sent = 0;
    const sender = (async () => {
      for (let i = 0; i < 1000; i++) {
        await tx.send(new Uint8Array(100));
        sent++;
      }
    })();
    for (let i = 0; i < 20; i++) await nextTurn();
    // 4 queued + what fits the 4 KiB ring (~39 frames of 104 bytes) + one in flight.
    expect(sent).toBeLessThan(60);
    let n = 0;
    for await (const _ of rx) if (++n === 1000) break;
    await sender;
    await tx.closed();
    host.assertCleanedUp();
  });

  it('a long trySend() burst queues one flush microtask, however often it publishes on the way', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1 << 20, writeSize: 1 << 20 });
    const tx = new MessageChannel(client);
    await nextTurn();
    // No receiver yet, so no peer is asleep and nothing but the channel itself queues microtasks.
    const queued = vi.spyOn(globalThis, 'queueMicrotask');
    try {
      // 200 x 4 KiB: 50 publications of a quarter ring's worth (16 KiB) in one synchronous burst.
      const msg = new Uint8Array(4096);
      for (let i = 0; i < 200; i++) expect(tx.trySend(msg)).toBe(true);
      expect(queued.mock.calls.length).toBe(1);
    } finally {
      queued.mockRestore();
    }
    let received = 0;
    const rx = new MessageChannel(server, { onMessage: () => void received++ });
    while (received < 200) await nextTurn();
    await tx.close();
    await rx.closed();
    host.assertCleanedUp();
  });

  it('an empty message queued behind a full ring is published once it is written', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 4096, writeSize: 4096 });
    const tx = new MessageChannel(client);
    // 1020-byte messages fill the ring exactly: not even an empty frame's header fits after them.
    const msg = new Uint8Array(1020);
    let full = 0;
    while (tx.trySend(msg)) full++;
    expect(full).toBe(4);
    const lengths: number[] = [];
    const sent = tx.send(new Uint8Array(0));
    const rx = new MessageChannel(server, { onMessage: (m) => void lengths.push(m.length) });
    await sent;
    for (let i = 0; i < 50 && lengths.length <= full; i++) await nextTurn();
    expect(lengths).toEqual([1020, 1020, 1020, 1020, 0]);
    await tx.close();
    await rx.closed();
    host.assertCleanedUp();
  });
});
