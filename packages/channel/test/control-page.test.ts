import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '@xenipc/core';
import { createLoopbackHost } from '@xenipc/sim';
import { VchanClient, VchanServer, controlPage } from '@xenipc/channel';
import { loopbackPair } from './loopback-pair.js';

const { planRings, rejectOrders } = controlPage;

describe('control page', () => {
  it('our server writes the libxenvchan header byte by byte (external rings, grants in order)', async () => {
    const { host, server, client, clientBackend } = await loopbackPair({ readSize: 8192, writeSize: 16384 });
    // Map the page independently, as a C client would, and decode it with a DataView.
    const mapping = await clientBackend.map(1, [server.ringRef], { writable: false });
    const v = new DataView(mapping.buffer);
    expect(v.getUint32(0, true)).toBe(0); // left.cons
    expect(v.getUint32(4, true)).toBe(0); // left.prod
    expect(v.getUint32(8, true)).toBe(0); // right.cons
    expect(v.getUint32(12, true)).toBe(0); // right.prod
    expect(v.getUint16(16, true)).toBe(13); // left_order: 8 KiB (client -> server)
    expect(v.getUint16(18, true)).toBe(14); // right_order: 16 KiB
    expect(v.getUint8(20)).toBe(1); // cli_live: connected
    expect(v.getUint8(21)).toBe(1); // srv_live
    expect(v.getUint8(22) & 0x3f).toBe(1); // cli_notify: server pre-armed WRITE
    expect(v.getUint8(23) & 0x3f).toBe(1); // srv_notify: client asked WRITE at connect
    expect(v.getUint8(22) & 0xc0).toBe(controlPage.FLAG_SPEAKS_GOODBYE);
    expect(v.getUint8(23) & 0xc0).toBe(controlPage.FLAG_SPEAKS_GOODBYE);
    const grants = [0, 1, 2, 3, 4, 5].map((i) => v.getUint32(24 + 4 * i, true));
    // 2 left pages then 4 right pages; they must be real grants of domain 1 to domain 2.
    const left = await clientBackend.map(1, grants.slice(0, 2), { writable: false });
    const right = await clientBackend.map(1, grants.slice(2), { writable: false });
    expect(left.buffer.byteLength).toBe(8192);
    expect(right.buffer.byteLength).toBe(16384);
    expect(new Uint8Array(mapping.buffer, 48, PAGE_SIZE - 48).every((b) => b === 0)).toBe(true);

    // Traffic moves exactly the documented indexes, and the bytes sit in the documented pages.
    client.write(new Uint8Array([7, 8, 9]));
    expect(v.getUint32(4, true)).toBe(3);
    expect([...new Uint8Array(left.buffer, 0, 3)]).toEqual([7, 8, 9]);
    server.write(new Uint8Array([5]));
    expect(v.getUint32(12, true)).toBe(1);
    expect(new Uint8Array(right.buffer)[0]).toBe(5);
    expect(server.read(new Uint8Array(8))).toBe(3);
    expect(v.getUint32(0, true)).toBe(3);
    left.close();
    right.close();
    mapping.close();
    await client.close();
    await server.close();
    host.assertCleanedUp();
  });

  it('in-page rings sit at 1024 and 2048 with no grants', async () => {
    const { host, server, client, clientBackend } = await loopbackPair({ readSize: 1000, writeSize: 2000 });
    const mapping = await clientBackend.map(1, [server.ringRef], { writable: false });
    const v = new DataView(mapping.buffer);
    expect([v.getUint16(16, true), v.getUint16(18, true)]).toEqual([10, 11]);
    expect(v.getUint32(24, true)).toBe(0);
    client.write(new Uint8Array([1, 2]));
    server.write(new Uint8Array([3]));
    expect([v.getUint8(1024), v.getUint8(1025), v.getUint8(2048)]).toEqual([1, 2, 3]);
    mapping.close();
    await server.close();
    await client.close();
    host.assertCleanedUp();
  });

  it('publishes ring-ref and event-channel readable by the peer only, withdraws them once the client is in', async () => {
    const host = createLoopbackHost();
    const serverBackend = host.domain(1);
    const xs = serverBackend.xenstore;
    const server = await VchanServer.listen(serverBackend, { peer: 2, port: 'pub', waitForClient: false });
    expect(server.path).toBe('/local/domain/1/data/vchan/2/pub');
    expect(await xs.read(`${server.path}/ring-ref`)).toBe(String(server.ringRef));
    expect(await xs.read(`${server.path}/event-channel`)).toBe(String(server.localPort));
    expect(await xs.getPerms(`${server.path}/ring-ref`)).toEqual([
      { domid: 1, perm: 'none' },
      { domid: 2, perm: 'read' },
    ]);
    await expect(host.domain(3).xenstore.read(`${server.path}/ring-ref`)).rejects.toMatchObject({ code: 'EACCES' });
    const client = await VchanClient.connect(host.domain(2), { peer: 1, port: 'pub' });
    await server.whenConnected();
    // One client per channel: a second client cannot find (and hijack) this one.
    await expect.poll(() => xs.read(`${server.path}/ring-ref`).catch((e: { code: string }) => e.code)).toBe('ENOENT');
    await client.close();
    await server.close();
    host.assertCleanedUp();
  });

  it('a server that never got a client removes its entry on close', async () => {
    const host = createLoopbackHost();
    const serverBackend = host.domain(1);
    const server = await VchanServer.listen(serverBackend, { peer: 2, port: 'lonely', waitForClient: false });
    await server.close();
    await expect(serverBackend.xenstore.read(`${server.path}/ring-ref`)).rejects.toMatchObject({ code: 'ENOENT' });
    host.assertCleanedUp();
  });

  it('plans rings like libxenvchan_server_init', () => {
    const orders = (l: number, r: number): number[] => {
      const p = planRings(l, r);
      return [p.left.order, p.right.order];
    };
    expect(orders(0, 0)).toEqual([10, 11]);
    expect(orders(2048, 1024)).toEqual([11, 10]);
    expect(orders(2048, 2048)).toEqual([11, 12]);
    expect(orders(65536, 100)).toEqual([16, 11]);
    expect(orders(1 << 20, 1 << 20)).toEqual([20, 20]);
    expect(() => planRings((1 << 20) + 1, 0)).toThrow(RangeError);
    expect(() => planRings(-1, 0)).toThrow(RangeError);
  });

  it('client rejects orders outside [10,20] and two equal in-page orders', () => {
    expect(rejectOrders(9, 12)).toMatch(/outside/);
    expect(rejectOrders(12, 21)).toMatch(/outside/);
    expect(rejectOrders(10, 10)).toMatch(/same in-page slot/);
    expect(rejectOrders(11, 11)).toMatch(/same in-page slot/);
    expect(rejectOrders(12, 12)).toBeUndefined();
    expect(rejectOrders(10, 20)).toBeUndefined();
  });

  it('a client refuses a hostile control page and releases what it took', async () => {
    const host = createLoopbackHost();
    const srv = host.domain(1);
    const cli = host.domain(2);
    const port = await srv.bindUnbound(2);
    const page = await srv.share(2, 1);
    const v = new DataView(page.buffer);
    v.setUint16(16, 10, true);
    v.setUint16(18, 10, true);
    v.setUint8(21, 1);
    await srv.xenstore.write('data/vchan/2/bad/ring-ref', String(page.refs[0]));
    await srv.xenstore.write('data/vchan/2/bad/event-channel', String(port.localPort));
    await srv.xenstore.setPerms('data/vchan/2/bad/ring-ref', [{ domid: 1, perm: 'none' }, { domid: 2, perm: 'read' }]);
    await srv.xenstore.setPerms('data/vchan/2/bad/event-channel', [{ domid: 1, perm: 'none' }, { domid: 2, perm: 'read' }]);
    await expect(VchanClient.connect(cli, { peer: 1, port: 'bad' })).rejects.toMatchObject({ code: 'EPROTO' });
    v.setUint16(18, 25, true);
    await expect(VchanClient.connect(cli, { peer: 1, port: 'bad' })).rejects.toMatchObject({ code: 'EPROTO' });
    await srv.xenstore.write('data/vchan/2/bad/ring-ref', 'x12');
    await expect(VchanClient.connect(cli, { peer: 1, port: 'bad' })).rejects.toMatchObject({ code: 'EPROTO' });
    page.close();
    port.close();
    await srv.xenstore.rm('data/vchan/2/bad');
    host.assertCleanedUp();
  });

  it('connect times out when no server appears; listen times out when no client comes', async () => {
    const host = createLoopbackHost();
    await expect(VchanClient.connect(host.domain(2), { peer: 1, port: 9, timeoutMs: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(VchanServer.listen(host.domain(1), { peer: 2, port: 9, timeoutMs: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    host.assertCleanedUp();
  });
});
