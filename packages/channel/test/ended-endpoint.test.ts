/**
 * A channel built over an endpoint that has already ended (issue 16): the client connected and
 * died before the server's code got to make its MessageChannel / VchanStream. By then the
 * endpoint has released its pages (the ring's buffer is detached), so every public operation
 * must answer from the recorded end -- ChannelClosedError with reason 'peer-crashed' -- and none
 * may touch the ring ("Cannot perform Atomics.load on a detached ArrayBuffer").
 */
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { ChannelClosedError, MessageChannel, VchanStream, type MessageChannelOptions } from '@xenipc/channel';
import { loopbackPair, type Pair } from './loopback-pair.js';

/** A pair whose client crashed, once the server noticed and let go of everything. */
async function endedServer(): Promise<Pair> {
  const pair = await loopbackPair();
  pair.host.crash(2);
  expect(await pair.server.closed()).toBe('peer-crashed');
  return pair;
}

const crashed = expect.objectContaining({ name: 'ChannelClosedError', code: 'ECHANNELCLOSED', reason: 'peer-crashed' });

describe('a channel made over an endpoint that already ended', () => {
  it('the endpoint itself: reads give nothing, writes and waits for room throw peer-crashed', async () => {
    const { host, server } = await endedServer();
    expect(server.isOpen).toBe(false);
    expect(server.eof).toBe(true);
    expect(server.closeReason).toBe('peer-crashed');
    expect(server.dataReady).toBe(0);
    expect(server.bufferSpace).toBe(0);
    expect(server.read(new Uint8Array(16))).toBe(0);
    expect(() => server.write(new Uint8Array(1))).toThrow(crashed);
    await expect(server.waitReadable()).resolves.toBeUndefined();
    await expect(server.waitWritable()).rejects.toEqual(crashed);
    await server.close();
    await server[Symbol.asyncDispose]();
    host.assertCleanedUp();
  });

  const receiveForms: Record<string, MessageChannelOptions> = {
    'the iterator': {},
    onMessage: { onMessage: () => undefined },
    onFrame: { onFrame: () => undefined },
  };
  for (const [form, options] of Object.entries(receiveForms)) {
    it(`MessageChannel (${form}): every operation reports peer-crashed`, async () => {
      const { host, server } = await endedServer();
      const mc = new MessageChannel(server, options);
      const closeEvent = new Promise((resolve) => mc.once('close', (reason) => resolve([reason])));
      expect(mc.closeReason).toBe('peer-crashed');
      expect(() => mc.trySend(new Uint8Array(8))).toThrow(crashed);
      await expect(mc.send(new Uint8Array(8))).rejects.toEqual(crashed);
      await expect(mc.send(new Uint8Array(1 << 20))).rejects.toEqual(crashed);
      expect(() => mc.flush()).not.toThrow();
      mc.pause();
      expect(mc.isPaused).toBe(true);
      mc.resume();
      expect(mc.isPaused).toBe(false);
      if (form === 'the iterator') await expect(mc[Symbol.asyncIterator]().next()).rejects.toEqual(crashed);
      expect(await closeEvent).toEqual(['peer-crashed']);
      expect(await mc.closed()).toBe('peer-crashed');
      await expect(mc.close()).resolves.toBeUndefined();
      await expect(mc[Symbol.asyncDispose]()).resolves.toBeUndefined();
      expect(() => mc.trySend(new Uint8Array(8))).toThrow(ChannelClosedError);
      host.assertCleanedUp();
    });
  }

  it("MessageChannel: a 'message' listener and a for-await loop both end with peer-crashed", async () => {
    const { host, server } = await endedServer();
    const mc = new MessageChannel(server);
    const got: Uint8Array[] = [];
    let error: unknown;
    try {
      for await (const m of mc) got.push(m);
    } catch (err) {
      error = err;
    }
    expect(got).toEqual([]);
    expect(error).toEqual(crashed);
    host.assertCleanedUp();
  });

  it('VchanStream: reading errors with peer-crashed, writing too, and end()/destroy() are safe', async () => {
    const { host, server } = await endedServer();
    const reader = new VchanStream(server);
    const readError = once(reader, 'error');
    reader.resume();
    expect((await readError)[0]).toEqual(crashed);

    const writer = new VchanStream(server);
    const writeError = once(writer, 'error');
    writer.write(Buffer.from('lost'));
    const [err] = await writeError;
    expect(err).toEqual(crashed);

    const ender = new VchanStream(server);
    ender.on('error', () => undefined);
    ender.end();
    ender.destroy();
    await ender[Symbol.asyncDispose]();
    host.assertCleanedUp();
  });
});
