import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChannelClosedError, VchanStream } from '@xenipc/channel';
import { loopbackPair, patternBytes } from './loopback-pair.js';

describe('VchanStream on the loopback host', () => {
  it('pipes bytes through with backpressure and ends on a clean close', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 4096, writeSize: 1024 });
    const data = patternBytes(7, 3_000_000);
    const up = new VchanStream(client);
    const down = new VchanStream(server);
    const hash = createHash('sha256');
    const reading = (async () => {
      for await (const chunk of down) hash.update(chunk as Buffer);
    })();
    await pipeline(Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]), up);
    await reading;
    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    host.assertCleanedUp();
  });

  it('errors with ChannelClosedError(peer-crashed) after delivering what the peer committed', async () => {
    const { host, server, client } = await loopbackPair();
    client.write(new Uint8Array(500).fill(3));
    const down = new VchanStream(server);
    host.crash(2);
    let bytes = 0;
    let error: unknown;
    try {
      for await (const chunk of down) bytes += (chunk as Buffer).length;
    } catch (err) {
      error = err;
    }
    expect(bytes).toBe(500);
    expect(ChannelClosedError.is(error, 'peer-crashed')).toBe(true);
    host.assertCleanedUp();
  });

  it('writes after the peer crashed fail', async () => {
    const { host, server } = await loopbackPair();
    const s = new VchanStream(server);
    s.on('error', () => undefined);
    host.crash(2);
    await new Promise((resolve) => server.once('close', resolve));
    const err = await new Promise<Error | null | undefined>((resolve) => s.write(Buffer.from('x'), resolve));
    expect(ChannelClosedError.is(err, 'peer-crashed')).toBe(true);
    s.destroy();
    await new Promise((resolve) => s.once('close', resolve));
    host.assertCleanedUp();
  });
});
