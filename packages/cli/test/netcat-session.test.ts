/**
 * NetcatSession's delivery accounting, in-process on the loopback host, against a bare vchan
 * server that reads (or does not) exactly as much as the test says.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLoopbackHost } from '@xenipc/sim';
import { VchanClient, VchanServer } from '@xenipc/channel';
import { DeliveryTracker } from '../src/streams/delivery-tracker.js';
import { NetcatSession } from '../src/streams/netcat-session.js';

async function openPair(port: string) {
  const host = createLoopbackHost();
  const tracker = new DeliveryTracker(host.domain(2));
  const [peer, ours] = await Promise.all([
    VchanServer.listen(host.domain(1), { peer: 2, port, readSize: 64 * 1024, writeSize: 64 * 1024 }),
    VchanClient.connect(tracker.backend, { peer: 1, port }),
  ]);
  tracker.attach(ours);
  return { peer, ours, tracker };
}

/** Read exactly n bytes on the bare server side. */
async function readExactly(peer: VchanServer, n: number): Promise<Buffer> {
  const out = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    await peer.waitReadable();
    got += peer.read(out.subarray(got));
  }
  return out;
}

describe('NetcatSession', () => {
  it('input ends: waits until the peer consumed everything, then closes; all delivered', async () => {
    const { peer, ours, tracker } = await openPair('all');
    const data = randomBytes(300 * 1024);
    const input = new PassThrough();
    const session = new NetcatSession(ours, tracker, { input, output: new PassThrough(), signal: new AbortController().signal });
    const running = session.run();
    input.end(data);
    expect((await readExactly(peer, data.length)).equals(data)).toBe(true);
    const result = await running;
    expect(result).toMatchObject({ ending: 'closed', taken: data.length, written: data.length, delivered: data.length, inputEnded: true, unreadInput: false });
    expect(await peer.closed()).toBe('peer-closed');
  });

  it('the peer closes after reading part: delivered is exactly what it read, and unread input is noticed', async () => {
    const { peer, ours, tracker } = await openPair('part');
    const input = new PassThrough();
    const session = new NetcatSession(ours, tracker, { input, output: new PassThrough(), signal: new AbortController().signal });
    const running = session.run();
    input.write(randomBytes(512 * 1024)); // more than the ring holds: the session is stuck in it
    await readExactly(peer, 10_000);
    input.write(randomBytes(1024)); // still in the input stream when the peer goes; input stays open
    await peer.close();
    const result = await running;
    expect(result.ending).toBe('peer-closed');
    expect(result.delivered).toBe(10_000);
    expect(result.written).toBeGreaterThan(10_000);
    expect(result.taken).toBe(512 * 1024);
    expect(result.unreadInput).toBe(true);
  });

  it('receive only: the peer\'s bytes reach the output, and its close ends the session', async () => {
    const { peer, ours, tracker } = await openPair('recv');
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const session = new NetcatSession(ours, tracker, { input: undefined, output, signal: new AbortController().signal });
    const running = session.run();
    const data = randomBytes(200 * 1024);
    for (let offset = 0; offset < data.length; ) {
      offset += peer.write(data.subarray(offset));
      if (offset < data.length) await peer.waitWritable();
    }
    await peer.waitWritable(peer.writeRingSize); // all consumed before we close: nothing lost
    await peer.close();
    const result = await running;
    expect(result).toMatchObject({ ending: 'peer-closed', received: data.length, taken: 0, delivered: 0 });
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('an abort ends it as interrupted and closes the channel', async () => {
    const { peer, ours, tracker } = await openPair('abort');
    const controller = new AbortController();
    const session = new NetcatSession(ours, tracker, { input: new PassThrough(), output: new PassThrough(), signal: controller.signal });
    const running = session.run();
    controller.abort();
    expect((await running).ending).toBe('interrupted');
    expect(await peer.closed()).toBe('peer-closed');
  });
});
