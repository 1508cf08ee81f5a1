/** RpcPeer over @xenipc/channel MessageChannels on the in-process loopback host. */
import { createLoopbackHost } from '@xenipc/core';
import { MessageChannel, VchanClient, VchanServer } from '@xenipc/channel';
import { describe, expect, it } from 'vitest';
import { ChannelTransport, ConnectionClosedError, RemoteError, RpcPeer } from '../src/index.js';

let nextPort = 1;

async function channelPeers(serverOptions: ConstructorParameters<typeof RpcPeer>[1] = {}): Promise<{ client: RpcPeer; server: RpcPeer; serverChannel: MessageChannel; clientChannel: MessageChannel }> {
  const host = createLoopbackHost();
  const port = `rpc-${nextPort++}`;
  const [serverEnd, clientEnd] = await Promise.all([
    VchanServer.listen(host.domain(1), { peer: 2, port }),
    VchanClient.connect(host.domain(2), { peer: 1, port }),
  ]);
  const serverChannel = new MessageChannel(serverEnd);
  const server = new RpcPeer(new ChannelTransport(serverChannel), serverOptions);
  const clientChannel = new MessageChannel(clientEnd);
  const client = new RpcPeer(new ChannelTransport(clientChannel));
  return { client, server, serverChannel, clientChannel };
}

describe('RpcPeer over a MessageChannel (loopback host)', () => {
  it('calls, pipelines and reports remote errors', async () => {
    const { client, server } = await channelPeers();
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

  it('carries messages larger than the ring', async () => {
    const { client, server } = await channelPeers();
    server.register('len', (bytes: Uint8Array) => bytes.length);
    server.register('make', (n: number) => new Uint8Array(n).fill(7));
    await expect(client.call('len', new Uint8Array(300_000))).resolves.toBe(300_000);
    const made = await client.call<Uint8Array>('make', 200_000);
    expect(made.length).toBe(200_000);
    expect(made[199_999]).toBe(7);
    client.close();
  });

  it('rejects pending calls with the channel reason when the peer closes', async () => {
    const { client, server } = await channelPeers();
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
    const { client, server, clientChannel } = await channelPeers();
    server.register('echo', (v: unknown) => v);
    clientChannel.trySend(Uint8Array.of(0xc1));
    clientChannel.trySend(Uint8Array.of(0x93, 0x01));
    await expect(client.call('echo', 'after garbage')).resolves.toBe('after garbage');
    expect(server.stats.notMsgpack).toBe(2);
    client.close();
  });

  it('pauses the channel when the request queue is full (no Overloaded), and every call completes', async () => {
    const { client, server } = await channelPeers({ maxConcurrentHandlers: 4, maxQueuedRequests: 8 });
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
});
