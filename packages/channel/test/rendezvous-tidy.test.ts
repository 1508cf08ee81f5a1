/**
 * A server on the conventional path removes its per-peer directory
 * (/local/domain/<self>/data/vchan/<peer>) with its entry once no other channel to that peer has
 * one there: libxenvchan leaves one node per peer ever served, which a long-running server
 * serving short-lived domains (a new domid each) pays against its xenstore node quota. Found by
 * the simulated-host resource ledger (test/channel/resource-ledger.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { VchanClient, VchanServer } from '@xenipc/channel';
import { createLoopbackHost, type LoopbackHost } from '@xenipc/sim';
import { publishRendezvous, tidyPeerDirectory, vchanPeerDirectory, withdrawRendezvous } from '../src/rendezvous.js';

/** What dom0 sees at `path`: 'present', or the errno code of the read. */
async function probe(host: LoopbackHost, path: string): Promise<string> {
  return host.domain(0).xenstore.read(path).then(
    () => 'present',
    (err: unknown) => (err as { code?: string }).code ?? String(err),
  );
}

describe('vchan server: the per-peer xenstore directory', () => {
  it('goes with the last channel to that peer; data/vchan itself stays', async () => {
    const host = createLoopbackHost();
    const [server, client] = await Promise.all([
      VchanServer.listen(host.domain(1), { peer: 2, port: 'a' }),
      VchanClient.connect(host.domain(2), { peer: 1, port: 'a' }),
    ]);
    await Promise.all([client.close(), server.close()]);
    expect(await probe(host, '/local/domain/1/data/vchan/2')).toBe('ENOENT');
    expect(await probe(host, '/local/domain/1/data/vchan')).toBe('present');
  });

  it('stays while another channel to the same peer is still published in it', async () => {
    const host = createLoopbackHost();
    const waiting = await VchanServer.listen(host.domain(1), { peer: 2, port: 'waiting', waitForClient: false });
    const [server, client] = await Promise.all([
      VchanServer.listen(host.domain(1), { peer: 2, port: 'b' }),
      VchanClient.connect(host.domain(2), { peer: 1, port: 'b' }),
    ]);
    await Promise.all([client.close(), server.close()]);
    expect(await probe(host, '/local/domain/1/data/vchan/2/waiting/ring-ref')).toBe('present');
    // The waiting server is still reachable, and its close takes the directory.
    const late = await VchanClient.connect(host.domain(2), { peer: 1, port: 'waiting' });
    await Promise.all([late.close(), waiting.close()]);
    expect(await probe(host, '/local/domain/1/data/vchan/2')).toBe('ENOENT');
  });

  it('servers closing and listening to the same peer back to back: every client finds its server', async () => {
    const host = createLoopbackHost();
    let previous = await VchanServer.listen(host.domain(1), { peer: 2, port: 'r0', waitForClient: false });
    for (let i = 1; i <= 30; i++) {
      // The close's read-and-remove races with the next publish; the transaction decides.
      const [next] = await Promise.all([VchanServer.listen(host.domain(1), { peer: 2, port: `r${i}`, waitForClient: false }), previous.close()]);
      const client = await VchanClient.connect(host.domain(2), { peer: 1, port: `r${i}`, timeoutMs: 2000 });
      await client.close();
      previous = next;
    }
    await previous.close();
    expect(await probe(host, '/local/domain/1/data/vchan/2')).toBe('ENOENT');
    expect(host.ledger()).toMatchObject({ grants: 0, mappings: 0, ports: 0 });
  });

  it('the directory is read and removed in one transaction: a publish between the two survives', async () => {
    const host = createLoopbackHost();
    const xs = host.domain(1).xenstore;
    const dir = vchanPeerDirectory(1, 2);
    await publishRendezvous(xs, 1, `${dir}/old`, 2, 8, 1);
    // The tidy's read of the directory is followed, before its removal, by another publish.
    let raced = false;
    const racing = new Proxy(xs, {
      get(target, name) {
        if (name === 'directory') {
          return async (path: string, tx?: number) => {
            const entries = await target.directory(path, tx);
            if (!raced) {
              raced = true;
              await publishRendezvous(target, 1, `${dir}/new`, 2, 9, 2);
            }
            return entries;
          };
        }
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    await withdrawRendezvous(racing, `${dir}/old`);
    await tidyPeerDirectory(racing, dir);
    expect(raced).toBe(true);
    expect(await probe(host, `${dir}/old`)).toBe('ENOENT');
    expect(await xs.read(`${dir}/new/ring-ref`)).toBe('9');
  });

  it("a caller's own path is left to the caller: only the entry goes", async () => {
    const host = createLoopbackHost();
    const path = '/local/domain/1/data/mine/x';
    const [server, client] = await Promise.all([
      VchanServer.listen(host.domain(1), { peer: 2, port: 'unused', path }),
      VchanClient.connect(host.domain(2), { peer: 1, port: 'unused', path }),
    ]);
    await Promise.all([client.close(), server.close()]);
    expect(await probe(host, path)).toBe('ENOENT');
    expect(await probe(host, '/local/domain/1/data/mine')).toBe('present');
  });
});
