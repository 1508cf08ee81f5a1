/** RpcPeer over @xenipc/channel MessageChannels on the in-process loopback host. */
import { createLoopbackHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelTransport, ConnectionClosedError, RemoteError, RpcExtension, RpcPeer } from '../src/index.js';
import { measureFlood, startFloodHost, type FloodHost } from '../../channel/test/flood-harness.js';

let nextPort = 1;

/** How the transport receives: in place through the channel's onFrame, or 'message' events. */
type ReceiveMode = 'endpoint' | 'channel';

function transportOver(endpoint: VchanEndpoint, mode: ReceiveMode): ChannelTransport {
  return new ChannelTransport(mode === 'endpoint' ? endpoint : new MessageChannel(endpoint));
}

async function channelPeers(mode: ReceiveMode, serverOptions: ConstructorParameters<typeof RpcPeer>[1] = {}): Promise<{ client: RpcPeer; server: RpcPeer; serverChannel: MessageChannel; clientChannel: MessageChannel }> {
  const host = createLoopbackHost();
  const port = `rpc-${nextPort++}`;
  const [serverEnd, clientEnd] = await Promise.all([
    VchanServer.listen(host.domain(1), { peer: 2, port }),
    VchanClient.connect(host.domain(2), { peer: 1, port }),
  ]);
  const serverTransport = transportOver(serverEnd, mode);
  const server = new RpcPeer(serverTransport, serverOptions);
  const clientTransport = transportOver(clientEnd, mode);
  const client = new RpcPeer(clientTransport);
  return { client, server, serverChannel: serverTransport.channel, clientChannel: clientTransport.channel };
}

describe.each(['endpoint', 'channel'] as const)('RpcPeer over a MessageChannel (loopback host, transport given the %s)', (mode) => {
  it('calls, pipelines and reports remote errors', async () => {
    const { client, server } = await channelPeers(mode);
    server.register('add', (a: number, b: number) => a + b);
    server.register('fail', () => { throw new SyntaxError('bad syntax'); });
    await expect(client.call('add', 1, 2)).resolves.toBe(3);
    const calls = Array.from({ length: 20_000 }, (_, i) => client.call<number>('add', i, i));
    const results = await Promise.all(calls);
    expect(results.every((r, i) => r === 2 * i)).toBe(true);
    const error = await client.call('fail').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ name: 'SyntaxError', message: 'bad syntax' });
    client.close();
  });

  it('carries extension values both ways (the frame scan routes them to the per-peer reader)', async () => {
    const { client, server } = await channelPeers(mode, { extensions: [{ type: 3, decode: (data) => ({ three: data[0] }) }] });
    let received: unknown;
    server.register('take', (value: unknown) => { received = value; return [value, new RpcExtension(0, Uint8Array.of(9))]; });
    const result = await client.call('take', new RpcExtension(3, Uint8Array.of(7)));
    expect(received).toEqual({ three: 7 });
    expect(result).toEqual([{ three: 7 }, new RpcExtension(0, Uint8Array.of(9))]);
    client.close();
  });

  it('carries messages larger than the ring', async () => {
    const { client, server } = await channelPeers(mode);
    server.register('len', (bytes: Uint8Array) => bytes.length);
    server.register('make', (n: number) => new Uint8Array(n).fill(7));
    await expect(client.call('len', new Uint8Array(300_000))).resolves.toBe(300_000);
    const made = await client.call<Uint8Array>('make', 200_000);
    expect(made.length).toBe(200_000);
    expect(made[199_999]).toBe(7);
    client.close();
  });

  it('rejects pending calls with the channel reason when the peer closes', async () => {
    const { client, server } = await channelPeers(mode);
    server.register('never', () => new Promise(() => {}));
    const pending = Array.from({ length: 100 }, () => client.call('never').catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 20));
    server.close();
    for (const error of await Promise.all(pending)) {
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect((error as ConnectionClosedError).reason).toBe('peer-closed');
    }
  });

  it('drops a bad frame and keeps the connection', async () => {
    const { client, server, clientChannel } = await channelPeers(mode);
    server.register('echo', (v: unknown) => v);
    clientChannel.trySend(Uint8Array.of(0xc1));
    clientChannel.trySend(Uint8Array.of(0x93, 0x01));
    await expect(client.call('echo', 'after garbage')).resolves.toBe('after garbage');
    expect(server.stats.notMsgpack).toBe(2);
    client.close();
  });

  it('pauses the channel when the request queue is full (no Overloaded), and every call completes', async () => {
    const { client, server } = await channelPeers(mode, { maxConcurrentHandlers: 4, maxQueuedRequests: 8 });
    let maxQueued = 0;
    server.register('later', (i: number) => new Promise((resolve) => {
      maxQueued = Math.max(maxQueued, server.queuedRequests);
      setTimeout(() => resolve(i), 1);
    }));
    const results = await Promise.all(Array.from({ length: 2000 }, (_, i) => client.call<number>('later', i)));
    expect(results.every((r, i) => r === i)).toBe(true);
    expect(server.stats.pauses).toBeGreaterThan(0);
    expect(server.stats.overloaded).toBe(0);
    expect(maxQueued).toBeLessThanOrEqual(8);
    client.close();
  });

  it('binary params received stay intact after later frames reuse the receive buffer', async () => {
    const { client, server } = await channelPeers(mode);
    const kept: Uint8Array[] = [];
    server.register('keep', (bytes: Uint8Array) => { kept.push(bytes); return kept.length; });
    server.register('echo', (v: unknown) => v);
    const count = 200;
    // one call at a time: each frame lands at the start of the (emptied) receive buffer, where
    // the previous one was
    // small frames are decoded from a scratch copy, bigger ones in place: both kinds
    const size = (i: number): number => (i % 2 === 0 ? 64 : 300) + (i % 7);
    for (let i = 0; i < count; i++) await client.call('keep', new Uint8Array(size(i)).fill(i & 0xff));
    // and a burst that refills the buffer with other bytes
    await Promise.all(Array.from({ length: 2000 }, (_, i) => client.call('echo', new Uint8Array(100).fill(0xee - (i & 0x0f)))));
    expect(kept.length).toBe(count);
    kept.forEach((bytes, i) => {
      expect(bytes.length).toBe(size(i));
      expect(bytes.every((b) => b === (i & 0xff))).toBe(true);
    });
    client.close();
  });

  it('decodes correctly across receive-buffer growth and shrink (new buffer objects)', async () => {
    const { client, server } = await channelPeers(mode);
    server.register('sum', (values: number[], bytes: Uint8Array) => values.reduce((a, b) => a + b, 0) + bytes.reduce((a, b) => a + b, 0));
    // floats and u32s are read through msgpackr's DataView cached on the buffer object
    const values = [0.5, 1.25, 0xfffffff0, -123456789, 2 ** 40];
    const small = Uint8Array.of(1, 2, 3);
    const expected = values.reduce((a, b) => a + b, 0);
    for (let round = 0; round < 3; round++) {
      await expect(client.call('sum', values, small)).resolves.toBe(expected + 6);
      // bigger than the ring and the frame buffer: the buffer grows into a new object
      const big = new Uint8Array(200_000 * (round + 1)).fill(1);
      await expect(client.call('sum', values, big)).resolves.toBe(expected + big.length);
      await expect(client.call('sum', values, small)).resolves.toBe(expected + 6);
      // enough small exchanges for a grown buffer to shrink back (a new object again)
      for (let i = 0; i < 300; i++) {
        if ((await client.call('sum', [i, 0.25], small)) !== i + 6.25) throw new Error(`wrong sum at ${i}`);
      }
    }
    client.close();
  });
});

describe('RpcPeer over a flooded channel (issue 17.1, simulated host)', () => {
  let host: FloodHost;
  beforeAll(async () => {
    host = await startFloodHost();
  }, 60_000);
  afterAll(async () => {
    await host?.close();
  });

  // A peer in another process keeps the ring full of empty frames (each one a malformed RPC
  // message, dropped and counted); the event loop must keep turning (see flood-harness.ts).
  for (const ring of [64 * 1024, 1024 * 1024]) {
    for (const mode of ['endpoint', 'channel'] as const) {
      it(`${ring / 1024} KiB ring, transport given the ${mode}: max event-loop lag < 50 ms`, { timeout: 60_000 }, async () => {
        const result = await measureFlood(host, ring, (endpoint) => {
          const peer = new RpcPeer(transportOver(endpoint, mode));
          peer.on('protocol-error', () => undefined);
          return { count: () => peer.stats.notMsgpack, stop: async () => peer.close() };
        });
        const lags = result.windowLagMs.map((ms) => ms.toFixed(1)).join(' / ');
        console.log(`rpc flood ${mode} ${ring / 1024} KiB: max lag per window ${lags} ms, ${result.received} frames, ${result.refills} refills`);
        expect(result.received).toBeGreaterThanOrEqual(6 * (ring / 4));
        expect(Math.min(...result.windowLagMs)).toBeLessThan(50);
      });
    }
  }
});
