/** MessageChannel's zero-copy send: claim() / claimAsync() reserve ring space, commit() sends, abandon() does not. */
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, MessageChannel, type SendClaim } from '@xenipc/channel';
import { endpointHandle } from '../src/endpoint-handle.js';
import { loopbackPair, nextTurn, patternBytes } from './loopback-pair.js';

/** Write `message` through a claim's views (two when the region wraps). */
function fill(claim: SendClaim, message: Uint8Array): void {
  let at = 0;
  for (const view of claim.views) {
    view.set(message.subarray(at, at + view.length));
    at += view.length;
  }
}

function receiver(server: Parameters<typeof endpointHandle>[0]): { rx: MessageChannel; got: Uint8Array[] } {
  const got: Uint8Array[] = [];
  const rx = new MessageChannel(server as never, { onMessage: (m) => got.push(m) });
  return { rx, got };
}

async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await nextTurn();
}

describe('MessageChannel claim/commit', () => {
  it('sends what was written into the ring, wrapping at its end, interleaved with trySend()', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const tx = new MessageChannel(client);
    const { rx, got } = receiver(server);
    const sent: Uint8Array[] = [];
    let wrapped = 0;
    // Sizes chosen so that claims land across the 1 KiB ring's end many times.
    for (let i = 0; i < 300; i++) {
      const size = [0, 1, 7, 100, 333, 1020][i % 6] as number;
      const message = patternBytes(i + 1, size);
      if (i % 3 === 2) {
        if (!tx.trySend(message)) await tx.send(message);
      } else {
        const claim = tx.claim(size) ?? (await tx.claimAsync(size));
        expect(claim.length).toBe(size);
        expect(claim.views.reduce((n, v) => n + v.length, 0)).toBe(size);
        if (claim.views.length === 2) wrapped++;
        fill(claim, message);
        claim.commit();
        expect(claim.state).toBe('committed');
      }
      sent.push(message);
    }
    await until(() => got.length === sent.length);
    expect(got).toEqual(sent);
    expect(wrapped).toBeGreaterThan(0);
    await tx.close();
    expect(await rx.closed()).toBe('peer-closed');
    host.assertCleanedUp();
  });

  it('views are the ring itself (no copy in), and commit(n) sends only the first n bytes', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 4096, writeSize: 4096 });
    const tx = new MessageChannel(client);
    const { rx, got } = receiver(server);
    const ring = (endpointHandle(client).producer as unknown as { data: Uint8Array }).data;
    const claim = tx.claim(100)!;
    const [view] = claim.views;
    expect(view!.buffer).toBe(ring.buffer);
    expect(view!.byteOffset).toBe(ring.byteOffset + 4); // right after the first frame's header
    view!.set([1, 2, 3, 4, 5]);
    claim.commit(3);
    await until(() => got.length === 1);
    expect([...got[0]!]).toEqual([1, 2, 3]);
    // The next frame starts right after those 3 bytes: nothing of the 100 reserved is lost.
    const next = tx.claim(2)!;
    expect(next.views[0]!.byteOffset).toBe(ring.byteOffset + 4 + 3 + 4);
    next.abandon();
    await tx.close();
    await rx.closed();
    host.assertCleanedUp();
  });

  it('abandon() sends nothing and gives the space back; it is a no-op after commit()', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const tx = new MessageChannel(client);
    const { rx, got } = receiver(server);
    for (let i = 0; i < 50; i++) {
      const claim = tx.claim(1020)!; // the whole ring, every time: only possible if abandon frees it
      expect(claim).not.toBeNull();
      claim.views[0]!.fill(0xee);
      claim.abandon();
      expect(claim.state).toBe('abandoned');
    }
    const claim = tx.claim(1)!;
    claim.views[0]![0] = 42;
    claim.commit();
    claim.abandon();
    expect(claim.state).toBe('committed');
    await until(() => got.length === 1);
    await nextTurn();
    expect(got.map((m) => [...m])).toEqual([[42]]);
    await tx.close();
    await rx.closed();
    host.assertCleanedUp();
  });

  it('returns null when the ring has no room, and claimAsync() waits for it (after queued sends)', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const tx = new MessageChannel(client);
    const { rx, got } = receiver(server);
    rx.pause();
    expect(tx.trySend(new Uint8Array(900))).toBe(true);
    expect(tx.claim(500)).toBeNull();
    const queued = tx.send(patternBytes(7, 800)); // waits for room too, and is older
    expect(tx.claim(10)).toBeNull(); // a claim never overtakes a queued send
    let claimed: SendClaim | undefined;
    const waiting = tx.claimAsync(500).then((c) => (claimed = c));
    await nextTurn();
    expect(claimed).toBeUndefined();
    rx.resume();
    await queued;
    await waiting;
    fill(claimed!, patternBytes(9, 500));
    claimed!.commit();
    await until(() => got.length === 3);
    expect(got.map((m) => m.length)).toEqual([900, 800, 500]);
    expect(got[2]).toEqual(patternBytes(9, 500));
    await tx.close();
    await rx.closed();
    host.assertCleanedUp();
  });

  it('checks its argument the Node way', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const tx = new MessageChannel(client, { maxMessageSize: 600 });
    for (const bad of ['1', null, undefined, 1n]) {
      expect(() => tx.claim(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }));
      expect(() => tx.claimAsync(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    }
    for (const bad of [-1, 1.5, Number.NaN, 601]) {
      expect(() => tx.claim(bad)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' }));
    }
    // Bigger than the ring can hold whole (1020 payload bytes): a RangeError, not "no room".
    const second = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const wide = new MessageChannel(second.client);
    expect(() => wide.claim(1021)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(wide.claim(1020)).not.toBeNull();
    const claim = tx.claim(10)!;
    expect(() => claim.commit(11)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => claim.commit('3' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(claim.state).toBe('open'); // a rejected commit leaves the claim as it was
    claim.abandon();
    await Promise.all([tx.close(), wide.close(), server.close(), second.server.close()]);
    host.assertCleanedUp();
    second.host.assertCleanedUp();
  });

  it('misuse is refused: a second claim, trySend/send while a claim is open, commit twice, views after the end', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const tx = new MessageChannel(client);
    const { rx, got } = receiver(server);
    const claim = tx.claim(8)!;
    const invalidState = expect.objectContaining({ code: 'ERR_INVALID_STATE' });
    expect(() => tx.claim(1)).toThrow(invalidState);
    expect(() => tx.trySend(new Uint8Array(1))).toThrow(invalidState);
    await expect(tx.send(new Uint8Array(1))).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(tx.claimAsync(1)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    claim.views[0]!.set([1, 2, 3, 4, 5, 6, 7, 8]);
    claim.commit();
    expect(() => claim.commit()).toThrow(invalidState);
    expect(() => claim.views).toThrow(invalidState);
    // The refused calls wrote nothing: only the committed message arrives.
    expect(tx.trySend(new Uint8Array([9]))).toBe(true);
    await until(() => got.length === 2);
    expect(got.map((m) => [...m])).toEqual([[1, 2, 3, 4, 5, 6, 7, 8], [9]]);

    const late = tx.claim(4)!;
    const kept = late.views[0]!;
    expect(kept.length).toBe(4);
    await tx.close();
    expect(late.state).toBe('closed');
    // Once the endpoint let go of the ring, a view kept past the end is detached: writing through it does nothing.
    expect(kept.length).toBe(0);
    kept[0] = 1;
    expect(kept[0]).toBeUndefined();
    expect(() => late.views).toThrow(invalidState);
    expect(() => late.commit()).toThrow(ChannelClosedError);
    late.abandon(); // harmless
    expect(() => tx.claim(1)).toThrow(ChannelClosedError);
    await expect(tx.claimAsync(1)).rejects.toBeInstanceOf(ChannelClosedError);
    await rx.closed();
    expect(got).toHaveLength(2);
    host.assertCleanedUp();
  });

  it('a claim committed after the peer went away throws ChannelClosedError and publishes nothing', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const tx = new MessageChannel(client);
    const claim = tx.claim(16)!;
    const ended = new Promise((resolve) => tx.once('close', resolve));
    await server.close();
    await ended;
    expect(() => claim.commit()).toThrow(ChannelClosedError);
    expect(claim.state).toBe('closed');
    expect(await tx.closed()).toBe('peer-closed');
    host.assertCleanedUp();
  });

  it('claimAsync() rejects with ChannelClosedError when the channel ends while it waits', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 1024 });
    const tx = new MessageChannel(client);
    const rx = new MessageChannel(server, { onMessage: () => undefined });
    rx.pause();
    expect(tx.trySend(new Uint8Array(1000))).toBe(true);
    const waiting = tx.claimAsync(500);
    await nextTurn();
    await rx.close();
    await expect(waiting).rejects.toBeInstanceOf(ChannelClosedError);
    await tx.closed();
    host.assertCleanedUp();
  });

  it('a reply committed during delivery is published once the frame in hand is delivered (the peer is waiting for it)', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 4096, writeSize: 4096 });
    const replies: number[] = [];
    const asker = new MessageChannel(client, { onMessage: (m) => replies.push(m[0]!) });
    const producer = endpointHandle(server).producer as unknown as { prod: number; words: Int32Array; ownIndex: number };
    // What the peer sees: the producer index in the shared page equals our private one.
    const published = (): boolean => Atomics.load(producer.words, producer.ownIndex) >>> 0 === producer.prod;
    const publishedInCallback: boolean[] = [];
    const publishedAfter: boolean[] = [];
    const answerer: MessageChannel = new MessageChannel(server, {
      onMessage: (m) => {
        const claim = answerer.claim(1)!;
        claim.views[0]![0] = m[0]! + 1;
        claim.commit();
        publishedInCallback.push(published());
        queueMicrotask(() => publishedAfter.push(published()));
      },
    });
    for (let i = 0; i < 5; i++) {
      expect(asker.trySend(new Uint8Array([i * 10]))).toBe(true);
      asker.flush();
      await until(() => replies.length === i + 1);
    }
    expect(replies).toEqual([1, 11, 21, 31, 41]);
    // with the replies to any other frames in hand, but before this task ends
    expect(publishedInCallback).toEqual([false, false, false, false, false]);
    expect(publishedAfter).toEqual([true, true, true, true, true]);
    await asker.close();
    await answerer.closed();
    host.assertCleanedUp();
  });
});
