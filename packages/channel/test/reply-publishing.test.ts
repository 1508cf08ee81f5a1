/**
 * Replies written during delivery (from onMessage / onFrame) are published once the frames in hand
 * have been delivered -- one index store for the batch, not one per reply -- and, within a long
 * batch, every quarter ring of unpublished replies, as any run of sends is. Before the next frame
 * is read, and before the task ends, everything is published: the peer is waiting for it.
 */
import { describe, expect, it, vi } from 'vitest';
import { MessageChannel } from '@xenipc/channel';
import { endpointHandle } from '../src/endpoint-handle.js';
import { loopbackPair, nextTurn } from './loopback-pair.js';

const RING = 4096;

/**
 * The client writes `frames` small frames in one burst (one publish); the server answers each
 * with a `replyBytes`-byte reply from its receive callback. Returns how many times the server
 * stored its producer index while delivering them, and the replies the client got.
 */
async function replyBatch(mode: 'onFrame' | 'onMessage', frames: number, replyBytes: number): Promise<{ stores: number; replies: number }> {
  const { host, server, client } = await loopbackPair({ readSize: RING, writeSize: RING });
  const { producer } = endpointHandle(server);
  const publish = producer.publish.bind(producer);
  let stores = 0;
  vi.spyOn(producer, 'publish').mockImplementation(() => {
    stores++;
    publish();
  });
  let replies = 0;
  const tx = new MessageChannel(client, { onMessage: () => replies++ });
  let delivered = 0;
  let rx: MessageChannel | undefined;
  const answer = (): void => {
    delivered++;
    expect(rx!.trySend(new Uint8Array(replyBytes))).toBe(true);
  };
  rx = new MessageChannel(server, mode === 'onFrame' ? { onFrame: answer } : { onMessage: answer });
  for (let i = 0; i < frames; i++) expect(tx.trySend(new Uint8Array(8).fill(i))).toBe(true);
  tx.flush();
  while (delivered < frames) await nextTurn();
  const storesForBatch = stores;
  while (replies < frames) await nextTurn();
  await tx.close();
  await rx.closed();
  host.assertCleanedUp();
  return { stores: storesForBatch, replies };
}

describe('replies written during delivery', () => {
  for (const mode of ['onFrame', 'onMessage'] as const) {
    it(`${mode}: 20 small replies to one batch cost one index store`, async () => {
      expect(await replyBatch(mode, 20, 3)).toEqual({ stores: 1, replies: 20 });
    });

    it(`${mode}: bigger replies are published every quarter ring within the batch`, async () => {
      // 252 + 4 bytes each: the unpublished replies reach RING / 4 = 1024 bytes at every 4th
      // reply, and 12 of them fit the ring while the client has read none
      expect(await replyBatch(mode, 12, 252)).toEqual({ stores: 3, replies: 12 });
    });
  }
});
