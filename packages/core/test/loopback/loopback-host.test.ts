import { describe, expect, it } from 'vitest';
import { createLoopbackHost, XenError, type XsWatchEvent } from '@xenipc/core';

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

  it('refuses grants of another domain, read-only grants mapped writable, and partial maps', async () => {
    const host = createLoopbackHost();
    const a = host.domain(1);
    const pages = await a.share(2, 2, { writable: false });
    await expect(host.domain(3).map(1, pages.refs, { writable: false })).rejects.toMatchObject({ code: 'EPERM' });
    await expect(host.domain(2).map(1, pages.refs)).rejects.toMatchObject({ code: 'EPERM' });
    await expect(host.domain(2).map(1, [pages.refs[0] ?? 0], { writable: false })).rejects.toMatchObject({ code: 'ENOTSUP' });
    await expect(host.domain(2).map(1, [999])).rejects.toBeInstanceOf(XenError);
    await expect(a.share(2, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    pages.close();
    host.assertCleanedUp();
  });

  it('unmap-notify clears the byte and sends an event on close and on a process crash', async () => {
    const host = createLoopbackHost();
    const srv = host.domain(1);
    const cli = host.domain(2);
    const srvPort = await srv.bindUnbound(2);
    const cliPort = await cli.bindInterdomain(1, srvPort.localPort);
    const pages = await srv.share(2, 1);
    const mapping = await cli.map(1, pages.refs);
    const view = new Uint8Array(pages.buffer);
    view[20] = 1;
    view[21] = 1;
    pages.setUnmapNotify({ clearByte: 21, sendEvent: srvPort });
    mapping.setUnmapNotify({ clearByte: 20, sendEvent: cliPort });
    let cliEvents = 0;
    cliPort.on('event', () => cliEvents++);
    host.crash(1);
    expect(view[21]).toBe(0);
    expect(view[20]).toBe(1);
    await nextTick();
    expect(cliEvents).toBe(1);
    expect(await cliPort.status()).toBe('unbound');
    mapping.close();
    cliPort.close();
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
    const seen: XsWatchEvent[] = [];
    cli.xenstore.on('watch', (e) => seen.push(e));
    await cli.xenstore.watch('@releaseDomain', 'rel');
    await nextTick();
    seen.length = 0;
    host.destroyDomain(1);
    await nextTick();
    expect(new Uint8Array(mapping.buffer)[21]).toBe(1);
    expect(await p2.status()).toBe('unbound');
    expect(seen.map((e) => e.path)).toContain('@releaseDomain');
    await expect(cli.xenstore.read('/local/domain/1/domid')).rejects.toMatchObject({ code: 'ENOENT' });
    await cli.xenstore.unwatch('@releaseDomain', 'rel');
    mapping.close();
    p2.close();
    host.assertCleanedUp();
  });
});

describe('loopback host: xenstore', () => {
  it('enforces permissions and resolves relative paths', async () => {
    const host = createLoopbackHost();
    const a = host.domain(1).xenstore;
    const b = host.domain(2).xenstore;
    await a.write('data/secret', 's');
    await expect(b.read('/local/domain/1/data/secret')).rejects.toMatchObject({ code: 'EACCES' });
    await a.setPerms('data/secret', [{ domid: 1, perm: 'none' }, { domid: 2, perm: 'read' }]);
    expect(await b.read('/local/domain/1/data/secret')).toBe('s');
    await expect(b.write('/local/domain/1/data/secret', 'x')).rejects.toMatchObject({ code: 'EACCES' });
    expect(await host.domain(0).xenstore.read('/local/domain/1/data/secret')).toBe('s');
    await a.rm('data');
    host.assertCleanedUp();
  });

  it('watches fire once at once, then on changes below, including removal', async () => {
    const host = createLoopbackHost();
    const a = host.domain(1).xenstore;
    const paths: string[] = [];
    a.on('watch', (e) => paths.push(e.path));
    await a.watch('data/vchan', 'tok');
    await nextTick();
    expect(paths).toEqual(['/local/domain/1/data/vchan']);
    await a.write('data/vchan/2/5/ring-ref', '8');
    await a.rm('data/vchan/2');
    await nextTick();
    expect(paths.slice(1)).toEqual(['/local/domain/1/data/vchan/2/5/ring-ref', '/local/domain/1/data/vchan/2']);
    await a.unwatch('data/vchan', 'tok');
    host.assertCleanedUp();
  });

  it('transactions are atomic to watchers, conflict with EAGAIN and retry', async () => {
    const host = createLoopbackHost();
    const a = host.domain(1).xenstore;
    const tx = await a.transactionStart();
    await a.write('data/k', '1', tx);
    await expect(a.read('data/k')).rejects.toMatchObject({ code: 'ENOENT' });
    await a.write('data/k', 'other');
    await expect(a.transactionEnd(tx, true)).rejects.toMatchObject({ code: 'EAGAIN' });
    host.xenstoreData.failNextCommits = 2;
    let attempts = 0;
    await a.transaction(async (t) => {
      attempts++;
      await a.write('data/k', 'tx', t);
    });
    expect(attempts).toBe(3);
    expect(await a.read('data/k')).toBe('tx');
    await a.rm('data/k');
    host.assertCleanedUp();
  });
});
