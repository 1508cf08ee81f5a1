/**
 * What a read of /local/domain/<peer> proves, against the simulated xenstored (which answers as
 * C xenstored 4.17): a domU gets EACCES whether the peer's home exists or not ('unknown'), dom0
 * tells present from absent. The errno rule vchan-endpoint's domain-death check must follow.
 */
import { describe, expect, it } from 'vitest';
import type { XenStoreClient } from '@xenipc/core';
import { connectInProcess, XenStoreServer } from '@xenipc/sim';
import { peerHomeState } from '../src/domain-death-watch.js';

function connect(server: XenStoreServer, domid: number): XenStoreClient {
  return connectInProcess(server, { domid, privileged: domid === 0 });
}

describe('peerHomeState', () => {
  it('dom0: present, then absent once the domain is released', async () => {
    const server = new XenStoreServer();
    server.introduceDomain(0);
    server.introduceDomain(2);
    const dom0 = connect(server, 0);
    expect(await peerHomeState(dom0, 2)).toBe('present');
    server.releaseDomain(2);
    expect(await peerHomeState(dom0, 2)).toBe('absent');
  });

  it('a domU: unknown while the peer lives and after it is gone (EACCES both times), never "present"', async () => {
    const server = new XenStoreServer();
    for (const domid of [0, 1, 2]) server.introduceDomain(domid);
    const domU = connect(server, 1);
    expect(await peerHomeState(domU, 2)).toBe('unknown');
    server.releaseDomain(2);
    expect(await peerHomeState(domU, 2)).toBe('unknown');
    expect(await peerHomeState(domU, 1)).toBe('present'); // its own home it may read
  });
});
