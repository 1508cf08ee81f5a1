import { describe, expect, it } from 'vitest';
import { ChannelClosedError, VchanClient, VchanServer, type CloseReason, type VchanEndpoint } from '@xenipc/channel';
import { createLoopbackHost } from '@xenipc/sim';
import { loopbackPair, nextTurn, patternBytes } from './loopback-pair.js';

const SIZES = [1024, 2048, 4096, 65536, 1 << 20];

/** Stream `data` from `from` to `to` through the non-blocking API, odd chunk sizes both ends. */
async function pump(from: VchanEndpoint, to: VchanEndpoint, data: Uint8Array): Promise<Uint8Array> {
  const got = new Uint8Array(data.length);
  let sent = 0;
  let received = 0;
  const buf = new Uint8Array(7919);
  const writer = (async () => {
    while (sent < data.length) {
      const n = from.write(data.subarray(sent, Math.min(data.length, sent + 5003)));
      sent += n;
      if (n === 0) await from.waitWritable(1);
    }
  })();
  while (received < data.length) {
    const n = to.read(buf.subarray(0, Math.min(buf.length, data.length - received)));
    got.set(buf.subarray(0, n), received);
    received += n;
    if (n === 0) await to.waitReadable(1);
  }
  await writer;
  return got;
}

describe('vchan endpoint on the loopback host', () => {
  for (const readSize of SIZES) {
    for (const writeSize of SIZES) {
      it(`moves bytes both ways, wrapping, with rings ${readSize}/${writeSize}`, async () => {
        const { host, server, client } = await loopbackPair({ readSize, writeSize });
        expect(server.readRingSize).toBeGreaterThanOrEqual(readSize);
        expect(server.writeRingSize).toBeGreaterThanOrEqual(writeSize);
        expect(client.writeRingSize).toBe(server.readRingSize);
        expect(client.readRingSize).toBe(server.writeRingSize);
        // Enough to wrap the larger ring at least twice.
        const volume = 2 * Math.max(server.readRingSize, server.writeRingSize) + 12345;
        const up = patternBytes(readSize ^ writeSize, volume);
        const down = patternBytes(readSize + writeSize, volume);
        const [gotUp, gotDown] = await Promise.all([pump(client, server, up), pump(server, client, down)]);
        expect(Buffer.from(gotUp).equals(Buffer.from(up))).toBe(true);
        expect(Buffer.from(gotDown).equals(Buffer.from(down))).toBe(true);
        await client.close();
        await server.close();
        host.assertCleanedUp();
      });
    }
  }

  it('a full ring is readable and a write to it returns 0 (no overflow)', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 1024, writeSize: 2048 });
    expect(client.write(new Uint8Array(5000).fill(1))).toBe(1024);
    expect(client.write(new Uint8Array(1))).toBe(0);
    expect(client.bufferSpace).toBe(0);
    expect(server.dataReady).toBe(1024);
    expect(server.read(new Uint8Array(5000))).toBe(1024);
    await client.close();
    await server.close();
    host.assertCleanedUp();
  });

  it('reports a clean close as peer-closed, after the data, and writes then fail', async () => {
    const { host, server, client } = await loopbackPair();
    const reasons: CloseReason[] = [];
    server.on('close', (r) => reasons.push(r));
    client.write(new Uint8Array([1, 2, 3]));
    await client.close();
    expect(client.closeReason).toBe('closed');
    expect(() => client.write(new Uint8Array(1))).toThrow(ChannelClosedError);
    await nextTurn();
    expect(reasons).toEqual(['peer-closed']);
    expect(() => server.write(new Uint8Array(1))).toThrow(expect.objectContaining({ reason: 'peer-closed' }));
    await expect(server.waitWritable()).rejects.toMatchObject({ reason: 'peer-closed' });
    const buf = new Uint8Array(8);
    expect(server.read(buf)).toBe(3);
    expect(server.eof).toBe(true);
    expect(server.read(buf)).toBe(0);
    await server.close();
    host.assertCleanedUp();
  });

  it('reports a killed peer process as peer-crashed, delivers what it committed, releases on drain', async () => {
    const { host, server, client } = await loopbackPair();
    client.write(patternBytes(1, 1000));
    const closed = new Promise<CloseReason>((resolve) => server.once('close', resolve));
    const t0 = performance.now();
    host.crash(2);
    expect(await closed).toBe('peer-crashed');
    expect(performance.now() - t0).toBeLessThan(100);
    const buf = new Uint8Array(2000);
    expect(server.read(buf)).toBe(1000);
    expect(Buffer.from(buf.subarray(0, 1000)).equals(Buffer.from(patternBytes(1, 1000)))).toBe(true);
    expect(server.read(buf)).toBe(0); // drained: resources are released now
    await server.close();
    void client;
    host.assertCleanedUp();
  });

  it('a client sees a killed server as peer-crashed', async () => {
    const { host, client } = await loopbackPair();
    const closed = new Promise<CloseReason>((resolve) => client.once('close', resolve));
    host.crash(1);
    expect(await closed).toBe('peer-crashed');
    await client.close();
    // The dead server could not remove its xenstore entry; the toolstack would. Tidy as dom0.
    const dom0 = host.domain(0).xenstore;
    await dom0.rm('/local/domain/1/data/vchan');
    host.assertCleanedUp();
  });

  it('detects the peer domain dying (no unmap-notify) as domain-gone', async () => {
    const { host, server, client } = await loopbackPair();
    const reasons: CloseReason[] = [];
    const closed = new Promise<CloseReason>((resolve) => client.once('close', resolve));
    server.on('close', (r) => reasons.push(r));
    host.destroyDomain(1);
    expect(await closed).toBe('domain-gone');
    await client.close();
    host.assertCleanedUp();
  });

  it('a server sees its client domain die as domain-gone', async () => {
    const { host, server } = await loopbackPair();
    const closed = new Promise<CloseReason>((resolve) => server.once('close', resolve));
    host.destroyDomain(2);
    expect(await closed).toBe('domain-gone');
    await server.close();
    host.assertCleanedUp();
  });

  // In dom0, which hears @releaseDomain. A domU server waiting for a client has no bound port to
  // poll and no xenstore signal (as on Xen 4.17): it cannot tell yet (domain-death-watch.ts).
  it('a dom0 server still waiting for its client sees the client domain die as domain-gone', async () => {
    const host = createLoopbackHost();
    host.domain(2); // the client domain exists, but no client ever connects
    const server = await VchanServer.listen(host.domain(0), { peer: 2, port: 'w', waitForClient: false });
    const closed = new Promise<CloseReason>((resolve) => server.once('close', resolve));
    host.destroyDomain(2);
    expect(await closed).toBe('domain-gone');
    await expect(server.whenConnected()).rejects.toMatchObject({ reason: 'domain-gone' });
    await server.close();
    host.assertCleanedUp();
  });

  it('another domain dying does not disturb a channel', async () => {
    const { host, server, client } = await loopbackPair();
    host.domain(7);
    host.destroyDomain(7);
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(server.isOpen && client.isOpen).toBe(true);
    expect(client.write(new Uint8Array([1]))).toBe(1);
    await client.close();
    await server.close();
    host.assertCleanedUp();
  });

  it('a plain libxenvchan peer (no goodbye flags) that goes away reads as peer-closed', async () => {
    const { host, server, client } = await loopbackPair();
    // Erase the client's xenipc flags, as a C libxenvchan client never sets them.
    const bytes = new Uint8Array((client as unknown as { parts: { control: { buffer: ArrayBuffer } } }).parts.control.buffer);
    Atomics.and(bytes, 22, 0x3f);
    const closed = new Promise<CloseReason>((resolve) => server.once('close', resolve));
    host.crash(2);
    expect(await closed).toBe('peer-closed');
    await server.close();
    host.assertCleanedUp();
  });

  it('suppresses events: a writer sends none until the reader asks, then exactly one per request', async () => {
    const { host, server, client } = await loopbackPair({ readSize: 65536 });
    let serverEvents = 0;
    // Count events the server's port receives (the endpoint listens too).
    (server as unknown as { evtchn: { on(e: 'event', f: () => void): void } }).evtchn.on('event', () => serverEvents++);
    await nextTurn();
    serverEvents = 0;
    const buf = new Uint8Array(65536);
    server.read(buf); // nothing; not armed
    for (let i = 0; i < 100; i++) client.write(new Uint8Array(10));
    await nextTurn();
    // The server pre-armed WRITE at setup (libxenvchan), so the first write may notify once.
    expect(serverEvents).toBeLessThanOrEqual(1);
    serverEvents = 0;
    expect(server.read(buf)).toBe(1000);
    for (let i = 0; i < 100; i++) client.write(new Uint8Array(10));
    await nextTurn();
    expect(serverEvents).toBe(0); // not armed: a busy writer makes no event at all
    server.read(buf);
    const waiting = server.waitReadable(1); // arms WRITE
    client.write(new Uint8Array(1));
    client.write(new Uint8Array(1));
    await waiting;
    await nextTurn();
    expect(serverEvents).toBe(1);
    await client.close();
    await server.close();
    host.assertCleanedUp();
  });

  it('emptying the ring of a plain libxenvchan writer wakes it unasked (vchan-socket-proxy waits for that at end of input); a xenipc writer gets no such event', async () => {
    for (const plain of [true, false]) {
      const { host, server, client } = await loopbackPair({ readSize: 65536 });
      // Erase the client's xenipc flags, as a C libxenvchan client never sets them.
      const bytes = new Uint8Array((client as unknown as { parts: { control: { buffer: ArrayBuffer } } }).parts.control.buffer);
      if (plain) Atomics.and(bytes, 22, 0x3f);
      let clientEvents = 0;
      (client as unknown as { evtchn: { on(e: 'event', f: () => void): void } }).evtchn.on('event', () => clientEvents++);
      await nextTurn();
      clientEvents = 0;
      expect(client.write(new Uint8Array(100))).toBe(100); // fits: the writer asks for nothing
      const buf = new Uint8Array(60);
      expect(server.read(buf)).toBe(60); // not empty yet: no event
      await nextTurn();
      expect(clientEvents).toBe(0);
      expect(server.read(buf)).toBe(40); // now empty
      await nextTurn();
      expect(clientEvents).toBe(plain ? 1 : 0);
      await client.close();
      await server.close();
      host.assertCleanedUp();
    }
  });

  it('a server can write before its client connects; the data waits in the ring', async () => {
    const host = createLoopbackHost();
    const server = await VchanServer.listen(host.domain(1), { peer: 2, port: 'early', waitForClient: false });
    expect(server.isOpen).toBe(false);
    expect(server.write(new Uint8Array([4, 2]))).toBe(2);
    const connected = new Promise<void>((resolve) => server.once('connect', resolve));
    const client = await VchanClient.connect(host.domain(2), { peer: 1, port: 'early' });
    await connected;
    expect(server.isOpen).toBe(true);
    const buf = new Uint8Array(4);
    expect(client.read(buf)).toBe(2);
    expect([...buf.subarray(0, 2)]).toEqual([4, 2]);
    await client.close();
    await server.close();
    host.assertCleanedUp();
  });

  it('a client finding the entry of a server whose process died fails at once instead of hanging', async () => {
    const host = createLoopbackHost();
    await VchanServer.listen(host.domain(1), { peer: 2, port: 'stale', waitForClient: false });
    host.crash(1); // the entry stays: a killed process cannot remove it
    await expect(VchanClient.connect(host.domain(2), { peer: 1, port: 'stale', timeoutMs: 5000 })).rejects.toMatchObject({ name: 'XenError' });
    await host.domain(0).xenstore.rm('/local/domain/1/data/vchan/2/stale');
    host.assertCleanedUp();
  });

  it('validates options', async () => {
    const host = createLoopbackHost();
    await expect(VchanServer.listen(host.domain(1), { peer: 2, port: 'a/b' })).rejects.toThrow(TypeError);
    await expect(VchanServer.listen(host.domain(1), { peer: 2, port: 1, readSize: 2 << 20 })).rejects.toThrow(RangeError);
    host.assertCleanedUp();
  });
});
