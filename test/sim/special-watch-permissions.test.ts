/**
 * The simulated xenstored's special watches against C xenstored of Xen 4.17 (see the header of
 * packages/core/src/xenstore/xs-server.ts for the source lines): any domain may watch
 * @releaseDomain and gets the initial event, but only readers of the special node's permissions
 * ("n0" by default: dom0) hear domains die; dom0 may grant a domU read.
 */
import { describe, expect, it } from 'vitest';
import type { XenStoreClient, XsWatchEvent } from '@xenipc/core';
import { connectInProcess, XenStoreServer } from '@xenipc/sim';

function connect(server: XenStoreServer, domid: number): { xs: XenStoreClient; events: XsWatchEvent[] } {
  const xs = connectInProcess(server, { domid, privileged: domid === 0 });
  const events: XsWatchEvent[] = [];
  xs.on('watch', (e) => events.push(e));
  return { xs, events };
}

function host(): XenStoreServer {
  const server = new XenStoreServer();
  for (const domid of [0, 1, 2, 3]) server.introduceDomain(domid);
  return server;
}

describe('special watches, as C xenstored 4.17', () => {
  it('a domU may watch @releaseDomain and gets the initial event, but not the deaths; dom0 does', async () => {
    const server = host();
    const dom0 = connect(server, 0);
    const domU = connect(server, 1);
    await dom0.xs.watch('@releaseDomain', 'd0');
    await domU.xs.watch('@releaseDomain', 'dU');
    await domU.xs.read('domid'); // a round trip: the initial event has arrived
    expect(domU.events).toEqual([{ path: '@releaseDomain', token: 'dU' }]);
    expect(dom0.events).toEqual([{ path: '@releaseDomain', token: 'd0' }]);
    server.releaseDomain(2);
    await dom0.xs.read('/local/domain/0/domid');
    await domU.xs.read('domid');
    expect(dom0.events).toHaveLength(2);
    expect(domU.events).toHaveLength(1);
  });

  it('dom0 may grant a domU read on @releaseDomain; the grant dies with the domU\'s id', async () => {
    const server = host();
    const dom0 = connect(server, 0);
    const domU = connect(server, 1);
    await expect(domU.xs.setPerms('@releaseDomain', [{ domid: 1, perm: 'read' }])).rejects.toMatchObject({ code: 'EACCES' });
    await dom0.xs.setPerms('@releaseDomain', [{ domid: 0, perm: 'none' }, { domid: 1, perm: 'read' }, { domid: 3, perm: 'read' }]);
    await domU.xs.watch('@releaseDomain', 'dU');
    server.releaseDomain(2);
    await domU.xs.read('domid');
    expect(domU.events).toEqual([{ path: '@releaseDomain', token: 'dU' }, { path: '@releaseDomain', token: 'dU' }]);
    server.releaseDomain(3); // remove_domid_from_perm: domain 3's entry goes with it
    expect(await dom0.xs.getPerms('@releaseDomain')).toEqual([{ domid: 0, perm: 'none' }, { domid: 1, perm: 'read' }]);
  });

  it('other "@" names: a watch is accepted (and never fires again), SET_PERMS is EINVAL', async () => {
    const server = host();
    const dom0 = connect(server, 0);
    await dom0.xs.watch('@noSuchSpecial', 't');
    await expect(dom0.xs.setPerms('@noSuchSpecial', [{ domid: 0, perm: 'none' }])).rejects.toMatchObject({ code: 'EINVAL' });
    server.releaseDomain(2);
    await dom0.xs.read('/local/domain/0/domid');
    expect(dom0.events).toEqual([{ path: '@noSuchSpecial', token: 't' }]);
  });

  it('every new watch fires once, even on a node the watcher may not read or that does not exist', async () => {
    const server = host();
    const domU = connect(server, 1);
    await domU.xs.watch('/local/domain/2', 'peer-home');
    await domU.xs.watch('/local/domain/77', 'nobody');
    await domU.xs.read('domid');
    expect(domU.events).toEqual([{ path: '/local/domain/2', token: 'peer-home' }, { path: '/local/domain/77', token: 'nobody' }]);
    // ... and the peer's home vanishing is not told to it (it may read neither it nor its parent).
    server.releaseDomain(2);
    await domU.xs.read('domid');
    expect(domU.events).toHaveLength(2);
    // Reading a peer's home answers EACCES whether it exists or not: it proves nothing.
    await expect(domU.xs.read('/local/domain/3')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(domU.xs.read('/local/domain/2')).rejects.toMatchObject({ code: 'EACCES' });
  });
});
