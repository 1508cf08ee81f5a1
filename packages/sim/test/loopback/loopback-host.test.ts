import { describe, expect, it } from 'vitest';
import { XenError, type XsWatchEvent } from '@xenipc/core';
import { createLoopbackHost } from '@xenipc/sim';

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('loopback host: grants', () => {
  it('a mapping sees the granter\'s bytes and the granter sees the mapper\'s writes', async () => {
    const host = createLoopbackHost();
    const a = host.domain(1);
    const b = host.domain(2);
    const pages = await a.share(2, 2);
    const mapping = await b.map(1, pages.refs);
    expect(mapping.buffer.byteLength).toBe(8192);
    new Uint8Array(pages.buffer)[5000] = 42;
    expect(new Uint8Array(mapping.buffer)[5000]).toBe(42);
    new Uint8Array(mapping.buffer)[7] = 9;
    expect(new Uint8Array(pages.buffer)[7]).toBe(9);
    expect(host.ledger()).toMatchObject({ grants: 2, mappings: 1 });
    mapping.close();
    pages.close();
    expect(pages.buffer.byteLength).toBe(0);
    host.assertCleanedUp();
  });

  it('the ledger names leaks', async () => {
    const host = createLoopbackHost();
    const a = host.domain(1);
    const pages = await a.share(2, 1);
    await a.xenstore.write('data/x', 'y');
    expect(() => host.assertCleanedUp()).toThrow(/1 granted page.*\/local\/domain\/1\/data\/x/);
    pages.close();
    await a.xenstore.rm('data/x');
    host.assertCleanedUp();
  });
});

describe('loopback host: event channels', () => {
  it('delivers asynchronously and coalesces notifies', async () => {
    const host = createLoopbackHost();
    const p1 = await host.domain(1).bindUnbound(2);
    const p2 = await host.domain(2).bindInterdomain(1, p1.localPort);
    let events = 0;
    p1.on('event', () => events++);
    p2.notify();
    p2.notify();
    p2.notify();
    expect(events).toBe(0);
    await nextTick();
    expect(events).toBe(1);
    expect(await p1.status()).toBe('interdomain');
    await expect(host.domain(3).bindInterdomain(1, p1.localPort)).rejects.toMatchObject({ code: 'EINVAL' });
    p2.close();
    expect(await p1.status()).toBe('unbound');
    p1.close();
    expect(await p1.status()).toBe('closed');
    host.assertCleanedUp();
  });

  it('destroying a domain fires no unmap-notify but unbinds peers and fires @releaseDomain', async () => {
    const host = createLoopbackHost();
    const srv = host.domain(1);
    const cli = host.domain(2);
    const p1 = await srv.bindUnbound(2);
    const p2 = await cli.bindInterdomain(1, p1.localPort);
    const pages = await srv.share(2, 1);
    pages.setUnmapNotify({ clearByte: 21, sendEvent: p1 });
    const mapping = await cli.map(1, pages.refs);
    new Uint8Array(mapping.buffer)[21] = 1;
    const dom0 = host.domain(0);
    const seen: XsWatchEvent[] = [];
    dom0.xenstore.on('watch', (e) => seen.push(e));
    await dom0.xenstore.watch('@releaseDomain', 'rel'); // a special watch: dom0's alone
    await nextTick();
    seen.length = 0;
    host.destroyDomain(1);
    await nextTick();
    expect(new Uint8Array(mapping.buffer)[21]).toBe(1);
    expect(await p2.status()).toBe('unbound');
    expect(seen.map((e) => e.path)).toContain('@releaseDomain');
    await expect(dom0.xenstore.read('/local/domain/1/domid')).rejects.toMatchObject({ code: 'ENOENT' });
    await dom0.xenstore.unwatch('@releaseDomain', 'rel');
    mapping.close();
    p2.close();
    host.assertCleanedUp();
  });
});
