/**
 * A receiver that also sends (an RPC caller sends its next calls from the continuations of the
 * answers it gets) must not hold all its continuations until a whole batch is delivered: after
 * 32 deliveries, with more frames waiting, the channel lets them run. A receiver that never sends
 * (a stream consumer) gets the whole batch in one go.
 */
import { describe, expect, it } from 'vitest';
import { MessageChannel } from '@xenipc/channel';
import { loopbackPair, nextTurn } from './loopback-pair.js';

const FRAMES = 100;

/**
 * The client writes FRAMES small frames in one burst; the server's receive callback records, for
 * each delivery, how many continuations of earlier deliveries had run. A continuation replies
 * when `replies` is set.
 */
async function deliveries(mode: 'onFrame' | 'onMessage', replies: boolean): Promise<number[]> {
  const { host, server, client } = await loopbackPair();
  const tx = new MessageChannel(client);
  const seenAt: number[] = [];
  let continuations = 0;
  let rx: MessageChannel | undefined;
  const received = (): void => {
    seenAt.push(continuations);
    void Promise.resolve().then(() => {
      continuations++;
      if (replies) rx!.trySend(Uint8Array.of(1));
    });
  };
  rx = new MessageChannel(server, mode === 'onFrame' ? { onFrame: received } : { onMessage: received });
  // the reply path is in use from the start, as for an RPC caller that sent its first calls
  if (replies) rx.trySend(Uint8Array.of(0));
  for (let i = 0; i < FRAMES; i++) expect(tx.trySend(new Uint8Array(8).fill(i))).toBe(true);
  tx.flush();
  while (seenAt.length < FRAMES) await nextTurn();
  await tx.close();
  await rx.closed();
  host.assertCleanedUp();
  return seenAt;
}

describe('deliveries and promise continuations', () => {
  for (const mode of ['onFrame', 'onMessage'] as const) {
    it(`${mode}: a receiver that sends lets continuations run every 32 deliveries`, async () => {
      const seenAt = await deliveries(mode, true);
      expect(seenAt.slice(0, 32)).toEqual(new Array(32).fill(0));
      expect(seenAt[32]).toBe(32);
      expect(seenAt[64]).toBe(64);
      expect(seenAt[FRAMES - 1]).toBe(96);
    });

    it(`${mode}: a receiver that never sends gets the whole batch before any continuation`, async () => {
      const seenAt = await deliveries(mode, false);
      expect(seenAt).toEqual(new Array(FRAMES).fill(0));
    });
  }
});
