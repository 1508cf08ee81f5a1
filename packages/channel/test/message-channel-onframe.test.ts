/** MessageChannel's zero-allocation receive: onFrame(bytes, start, end) over a private bulk copy. */
import { describe, expect, it, vi } from 'vitest';
import { MessageChannel } from '@xenipc/channel';
import { endpointHandle } from '../src/endpoint-handle.js';
import { loopbackPair, nextTurn, patternBytes } from './loopback-pair.js';

function checksum(data: Uint8Array, start = 0, end = data.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (data[i] as number), 0x01000193);
  return h >>> 0;
}

describe('MessageChannel onFrame', () => {
  for (const [ring, sizes] of [
    [1024, [0, 1, 16, 1019, 1020, 1021, 4000, 100_000, 3]],
    [65536, [0, 16, 65532, 65533, 200_000, 64, 7]],
  ] as const) {
    it(`delivers small, ring-sized and larger-than-ring frames intact and in order (ring ${ring})`, async () => {
      const { host, server, client } = await loopbackPair({ readSize: ring, writeSize: ring });
      const tx = new MessageChannel(client);
      const messages = sizes.flatMap((size, i) => [patternBytes(i + 1, size), patternBytes(i + 100, size)]);
      const got: Array<[number, number]> = [];
      let bufferOutsideRing = true;
      const rx = new MessageChannel(server, {
        onFrame: (bytes, start, end) => {
          // never a view of the shared ring: the peer could rewrite it while we parse
          if (bytes.buffer === (endpointHandle(server).consumer as unknown as { data: Uint8Array }).data.buffer) bufferOutsideRing = false;
          got.push([end - start, checksum(bytes, start, end)]);
        },
      });
      await Promise.all(messages.map((m) => tx.send(m)));
      while (got.length < messages.length) await nextTurn();
      expect(got).toEqual(messages.map((m) => [m.length, checksum(m)]));
      expect(bufferOutsideRing).toBe(true);
      await tx.close();
      expect(await rx.closed()).toBe('peer-closed');
      host.assertCleanedUp();
    });
  }

  it('many small frames per wake-up, then everything before close(peer-closed)', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 4096, writeSize: 4096 });
    const tx = new MessageChannel(client);
    let next = 0;
    let bad = 0;
    const rx = new MessageChannel(server, {
      onFrame: (bytes, start, end) => {
        if (end - start !== 5 || new DataView(bytes.buffer, bytes.byteOffset).getUint32(start, true) !== next) bad++;
        next++;
      },
    });
    const msg = new Uint8Array(5);
    for (let i = 0; i < 20_000; i++) {
      new DataView(msg.buffer).setUint32(0, i, true);
      if (!tx.trySend(msg)) await tx.send(msg);
    }
    await tx.close();
    expect(await rx.closed()).toBe('peer-closed');
    expect(next).toBe(20_000);
    expect(bad).toBe(0);
    host.assertCleanedUp();
  });

  it('pause() from the start leaves the ring full; resume() delivers all, even after the peer closed', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const tx = new MessageChannel(client);
    const got: number[] = [];
    const rx = new MessageChannel(server, { onFrame: (bytes, start) => got.push(bytes[start] as number) });
    rx.pause();
    let sent = 0;
    while (tx.trySend(new Uint8Array([sent, 0, 0, 0, 0, 0, 0, 0]))) sent++;
    tx.flush();
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(got).toEqual([]);
    expect(sent).toBe((1024 / 12) | 0);
    expect(client.bufferSpace).toBeLessThan(12);
    await tx.close();
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(got).toEqual([]);
    rx.resume();
    expect(await rx.closed()).toBe('peer-closed');
    expect(got).toEqual([...Array(sent).keys()]);
    host.assertCleanedUp();
  });

  it('pause() inside the callback stops delivery at that frame; resume() goes on in order', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 4096, writeSize: 4096 });
    const tx = new MessageChannel(client);
    const got: number[] = [];
    const rx: MessageChannel = new MessageChannel(server, {
      onFrame: (bytes, start) => {
        got.push(bytes[start] as number);
        if (got.length === 10) rx.pause();
      },
    });
    for (let i = 0; i < 100; i++) expect(tx.trySend(new Uint8Array([i]))).toBe(true);
    tx.flush();
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(got).toEqual([...Array(10).keys()]);
    rx.resume();
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(got).toEqual([...Array(100).keys()]);
    await tx.close();
    expect(await rx.closed()).toBe('peer-closed');
    host.assertCleanedUp();
  });

  it('a frame over maxMessageSize is a protocol error (nothing allocated for it)', async () => {
    const { host, server, client } = await loopbackPair();
    const tx = new MessageChannel(client);
    let frames = 0;
    const rx = new MessageChannel(server, { maxMessageSize: 100, onFrame: () => frames++ });
    await tx.send(new Uint8Array(100));
    await tx.send(new Uint8Array(101));
    expect(await rx.closed()).toBe('protocol-error');
    expect(frames).toBe(1);
    expect(await tx.closed()).toBe('peer-closed');
    await tx.close();
    host.assertCleanedUp();
  });

  it('a lone small frame frees its ring space after delivery, behind the reply; other batches before', async () => {
    // The order matters to a spinning peer: the reply's producer index and our consumer index
    // stored back to back cost one transfer of the shared index line, not two.
    const ring = 4096;
    const { host, server, client } = await loopbackPair({ readSize: ring, writeSize: ring });
    const senderSpace = (): number => endpointHandle(client).producer.space();
    const stores: string[] = [];
    const { producer, consumer } = endpointHandle(server);
    const publishReplies = producer.publish.bind(producer);
    const publishSpace = consumer.publish.bind(consumer);
    vi.spyOn(producer, 'publish').mockImplementation(() => (stores.push('replies'), publishReplies()));
    vi.spyOn(consumer, 'publish').mockImplementation(() => (stores.push('space'), publishSpace()));
    const seen: Array<{ length: number; spaceInCallback: number }> = [];
    const rx = new MessageChannel(server, {
      onFrame: (_bytes, start, end) => {
        rx.trySend(new Uint8Array([1, 2, 3]));
        seen.push({ length: end - start, spaceInCallback: senderSpace() });
      },
    });
    const tx = new MessageChannel(client);
    const batch = async (...lengths: number[]): Promise<string[]> => {
      while (senderSpace() !== ring) await nextTurn();
      stores.length = 0;
      const wanted = seen.length + lengths.length;
      for (const length of lengths) tx.trySend(new Uint8Array(length)); // one publish for all
      while (seen.length < wanted) await nextTurn();
      return [...stores];
    };
    // lone and small: our 64-byte frame holds its space while delivered, freed after the reply
    expect(await batch(60)).toEqual(['replies', 'space']);
    expect(seen[0]).toEqual({ length: 60, spaceInCallback: ring - 64 });
    // two frames: freed before the first was delivered, both replies published after the second
    expect(await batch(60, 60)).toEqual(['space', 'replies']);
    expect(seen[1]?.spaceInCallback).toBe(ring);
    // a big lone frame: freed before delivery (a quarter ring at a time as it is copied)
    expect(await batch(2000)).toEqual(['space', 'space', 'replies']);
    expect(seen[3]?.spaceInCallback).toBe(ring);
    await tx.close();
    await rx.closed();
    host.assertCleanedUp();
  });

  it('frames left in the buffer by the drain budget are delivered before the ring is read again (no move to the front)', async () => {
    // 50 000-byte frames in a 1 MiB ring: each fill takes everything the ring holds (up to 20
    // frames), and the 4 MiB budget runs out part-way through a buffer. Reading the ring then
    // would first move the undelivered frames to the buffer's front: a third copy of them.
    const ring = 1 << 20;
    const { host, server, client } = await loopbackPair({ readSize: ring, writeSize: ring });
    const moves = vi.spyOn(Uint8Array.prototype, 'copyWithin');
    try {
      const tx = new MessageChannel(client);
      const messages = Array.from({ length: 400 }, (_, i) => patternBytes(i + 1, 50_000));
      const got: number[] = [];
      const rx = new MessageChannel(server, { onFrame: (bytes, start, end) => got.push(checksum(bytes, start, end)) });
      for (const m of messages) {
        if (!tx.trySend(m)) await tx.send(m);
      }
      while (got.length < messages.length) await nextTurn();
      expect(got).toEqual(messages.map((m) => checksum(m)));
      expect(moves).not.toHaveBeenCalled();
      await tx.close();
      await rx.closed();
    } finally {
      moves.mockRestore();
    }
    host.assertCleanedUp();
  });

  it('takes onMessage or onFrame, not both', async () => {
    const { host, server, client } = await loopbackPair();
    expect(() => new MessageChannel(server, { onMessage: () => undefined, onFrame: () => undefined })).toThrow(TypeError);
    await Promise.all([server.close(), client.close()]);
    host.assertCleanedUp();
  });
});
