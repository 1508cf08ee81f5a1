/**
 * @xenipc/core's xenstore client against the real xenstored: in dom0 over the daemon's Unix
 * socket, in the domU over /dev/xen/xenbus (the peer agent), and watches across the two.
 */
import { connectXenStore, type XenStore } from '@xenipc/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPeerDomid, PeerAgent } from '../peer/agent-client.js';
import { runningInXen } from '../peer/cross-domain.js';
import { xsRead, xsWrite } from '../peer/xenstore-cli.js';
import { waitUntil } from '../peer/wait-until.js';

describe.skipIf(!runningInXen)('xenstore client on real xenstored (dom0 socket, domU xenbus)', () => {
  let xs: XenStore;
  let agent: PeerAgent;
  let peer: number;
  beforeAll(async () => {
    peer = await findPeerDomid();
    xs = await connectXenStore();
    agent = await PeerAgent.connect(peer);
  });
  afterAll(() => {
    agent?.close();
    xs?.close();
  });

  it('dom0 reads what xen-init-dom0 and libxl wrote', async () => {
    expect(await xs.read('/local/domain/0/name')).toBe('Domain-0');
    expect(await xs.read(`/local/domain/${peer}/name`)).toBe('xenipc-peer');
    expect(await xs.getDomainPath(peer)).toBe(`/local/domain/${peer}`);
    expect(await xs.directory('/local/domain')).toEqual(expect.arrayContaining(['0', String(peer)]));
  });

  it('dom0 writes, reads back, lists and removes; the xenstore tools agree', async () => {
    await xs.write('/local/domain/0/data/xenipc-test/a', 'one');
    expect(await xsRead('/local/domain/0/data/xenipc-test/a')).toBe('one');
    await xsWrite('/local/domain/0/data/xenipc-test/b', 'two');
    expect(await xs.read('/local/domain/0/data/xenipc-test/b')).toBe('two');
    expect((await xs.directory('/local/domain/0/data/xenipc-test')).sort()).toEqual(['a', 'b']);
    await xs.rm('/local/domain/0/data/xenipc-test');
    await expect(xs.read('/local/domain/0/data/xenipc-test/a')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a transaction commits atomically', async () => {
    await xs.transaction(async (tx) => {
      await xs.write('/local/domain/0/data/xenipc-tx/x', '1', tx);
      await xs.write('/local/domain/0/data/xenipc-tx/y', '2', tx);
    });
    expect([await xsRead('/local/domain/0/data/xenipc-tx/x'), await xsRead('/local/domain/0/data/xenipc-tx/y')]).toEqual(['1', '2']);
    await xs.rm('/local/domain/0/data/xenipc-tx');
  });

  it('the domU writes over /dev/xen/xenbus (relative path), dom0 reads it', async () => {
    const { transport } = await agent.call('xsClientWrite', { path: 'data/xenipc-from-domu', value: 'hello dom0' });
    expect(transport).toBe('xenbus device');
    expect(await xs.read(`/local/domain/${peer}/data/xenipc-from-domu`)).toBe('hello dom0');
  });

  it('the domU may not write dom0\'s tree (EACCES from xenstored)', async () => {
    await expect(agent.call('xsClientWrite', { path: '/local/domain/0/data/xenipc-intrusion', value: 'x' })).rejects.toMatchObject({ code: 'EACCES' });
  });

  it('a dom0 watch fires when the domU writes', async () => {
    const path = `/local/domain/${peer}/data/xenipc-watched`;
    const seen: string[] = [];
    const onWatch = (event: { path: string; token: string }): void => {
      if (event.token === 'cross-domain') seen.push(event.path);
    };
    xs.on('watch', onWatch);
    await xs.watch(path, 'cross-domain');
    try {
      await waitUntil('the initial watch event', 10_000, () => seen.length >= 1);
      const initial = seen.length;
      await agent.call('xsClientWrite', { path: 'data/xenipc-watched', value: 'changed' });
      await waitUntil('a watch event for the domU\'s write', 10_000, () => seen.length > initial);
      expect(seen.at(-1)).toBe(path);
    } finally {
      xs.off('watch', onWatch);
      await xs.unwatch(path, 'cross-domain');
    }
  });

  it('a domU watch (over xenbus) fires when dom0 writes', async () => {
    const path = `/local/domain/${peer}/data/xenipc-from-dom0`;
    await xs.write(path, 'not yet');
    const waiting = agent.call('xsClientAwaitValue', { path, value: 'ping', timeoutMs: 30_000 });
    let watching = false;
    await waitUntil('the domU to set its watch', 30_000, () => {
      void xs.read(`${path}-watching`).then(() => (watching = true), () => undefined);
      return watching;
    });
    await xs.write(path, 'ping');
    // One event at registration (value 'not yet'), at least one for the write.
    expect((await waiting).events).toBeGreaterThanOrEqual(2);
  });
});
