/**
 * The simulated xenstored's own rules (permissions, domains, conflicts, quotas), through the sim
 * host's socket. What every xenstored must do is in test/conformance/xenstore-conformance.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { XsWatchEvent } from '@xenipc/core';
import { getSimLedger, joinSimulatedHost, type SimBackend, type SimulatedHost, startSimulatedHost } from '@xenipc/sim';

let dir: string;
let host: SimulatedHost;
const backends: SimBackend[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenipc-xs-test-'));
  host = await startSimulatedHost({ dir });
});

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  expect((await getSimLedger(dir)).domains).toEqual([]);
  await host.close();
  rmSync(dir, { recursive: true });
});

describe('simulated xenstored permissions and domains', () => {
  async function twoDomains(): Promise<[SimBackend, SimBackend]> {
    const a = await joinSimulatedHost({ dir, autoStart: false });
    const b = await joinSimulatedHost({ dir, autoStart: false });
    backends.push(a, b);
    return [a, b];
  }

  it('B cannot read or write A\'s private path (EACCES), nor probe whether a path exists', async () => {
    const [a, b] = await twoDomains();
    await a.xenstore.write('data/secret', 's');
    const path = `/local/domain/${a.domid}/data/secret`;
    await expect(b.xenstore.read(path)).rejects.toMatchObject({ code: 'EACCES' });
    await expect(b.xenstore.write(path, 'x')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(b.xenstore.read(`/local/domain/${a.domid}/data/nothing`)).rejects.toMatchObject({ code: 'EACCES' });
    await expect(b.xenstore.read('data/nothing')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('SET_PERMS grants a peer read access (the vchan rendezvous pattern); only the owner may change perms', async () => {
    const [a, b] = await twoDomains();
    const path = `/local/domain/${a.domid}/data/vchan/${b.domid}/1/ring-ref`;
    await a.xenstore.write(path, '8');
    await a.xenstore.setPerms(path, [{ domid: a.domid, perm: 'none' }, { domid: b.domid, perm: 'read' }]);
    expect(await b.xenstore.read(path)).toBe('8');
    await expect(b.xenstore.write(path, '9')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(b.xenstore.setPerms(path, [{ domid: b.domid, perm: 'both' }])).rejects.toMatchObject({ code: 'EACCES' });
    await expect(a.xenstore.setPerms(path, [{ domid: b.domid, perm: 'both' }])).rejects.toMatchObject({ code: 'EPERM' });
    expect(await a.xenstore.getPerms(path)).toEqual([{ domid: a.domid, perm: 'none' }, { domid: b.domid, perm: 'read' }]);
  });

  it('a watcher hears about changes only to nodes it may read; relative watches report relative paths', async () => {
    const [a, b] = await twoDomains();
    const events: XsWatchEvent[] = [];
    b.xenstore.on('watch', (e) => events.push(e));
    a.xenstore.on('watch', (e) => events.push({ ...e, token: `a:${e.token}` }));
    await b.xenstore.watch(`/local/domain/${a.domid}/data`, 'spy');
    await a.xenstore.watch('data', 'mine');
    await a.xenstore.write('data/private', 'p');
    await a.xenstore.read('data/private');
    await b.xenstore.read('data').catch(() => undefined); // round trips so pending events arrive
    expect(events.filter((e) => e.token === 'spy' && e.path.endsWith('private'))).toEqual([]);
    expect(events).toContainEqual({ path: 'data/private', token: 'a:mine' });
    await a.xenstore.unwatch('data', 'mine');
    await b.xenstore.unwatch(`/local/domain/${a.domid}/data`, 'spy');
  });

  it('domain death removes /local/domain/<id> and fires @releaseDomain for dom0', async () => {
    const dom0 = await joinSimulatedHost({ dir, autoStart: false, domid: 0 });
    backends.push(dom0);
    const guest = await joinSimulatedHost({ dir, autoStart: false });
    const released = new Promise<void>((resolve) => dom0.xenstore.on('watch', (e) => { if (e.token === 'rel' && e.path === '@releaseDomain') resolve(); }));
    await dom0.xenstore.watch('@releaseDomain', 'rel');
    await guest.xenstore.write('data/x', '1');
    expect(await dom0.xenstore.read(`/local/domain/${guest.domid}/data/x`)).toBe('1'); // dom0 reads everything
    await guest.close();
    await released;
    await expect(dom0.xenstore.read(`/local/domain/${guest.domid}`)).rejects.toMatchObject({ code: 'ENOENT' });
    await dom0.xenstore.unwatch('@releaseDomain', 'rel');
    await expect(joinSimulatedHost({ dir, autoStart: false, domid: 0 })).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('conflicts are per node: a listed directory gaining a child conflicts, unrelated writes do not', async () => {
    const [a] = await twoDomains();
    const other = await a.connectXenStore();
    await a.xenstore.write('data/dir/x', '1');
    const listing = await a.xenstore.transactionStart();
    expect(await a.xenstore.directory('data/dir', listing)).toEqual(['x']);
    await a.xenstore.write('data/flag', 'set', listing);
    await other.write('data/dir/y', '2');
    await expect(a.xenstore.transactionEnd(listing, true)).rejects.toMatchObject({ code: 'EAGAIN' });
    await expect(a.xenstore.read('data/flag')).rejects.toMatchObject({ code: 'ENOENT' });
    const unrelated = await a.xenstore.transactionStart();
    await a.xenstore.read('data/dir/x', unrelated);
    await a.xenstore.write('data/dir/x', '3', unrelated);
    await other.write('data/elsewhere', 'z');
    await a.xenstore.transactionEnd(unrelated, true);
    expect(await other.read('data/dir/x')).toBe('3');
    other.close();
  });

  it('a transaction commit fires watches for its changes; an aborted one fires none', async () => {
    const [a] = await twoDomains();
    const watcher = await a.connectXenStore();
    const seen: string[] = [];
    watcher.on('watch', (e) => seen.push(e.path));
    await watcher.watch('data/tx', 'tok');
    const aborted = await a.xenstore.transactionStart();
    await a.xenstore.write('data/tx/gone', 'g', aborted);
    await a.xenstore.transactionEnd(aborted, false);
    const committed = await a.xenstore.transactionStart();
    await a.xenstore.write('data/tx/kept', 'k', committed);
    await a.xenstore.transactionEnd(committed, true);
    await watcher.read('data/tx/kept');
    expect(seen).toEqual(['data/tx', 'data/tx/kept']);
    watcher.close();
  });

  it('quotas: the 129th watch is E2BIG; invalid paths are EINVAL', async () => {
    const [a] = await twoDomains();
    for (let i = 0; i < 128; i++) await a.xenstore.watch(`data/w${i}`, 't');
    await expect(a.xenstore.watch('data/w128', 't')).rejects.toMatchObject({ code: 'E2BIG' });
    await expect(a.xenstore.watch('data/w0', 't')).rejects.toMatchObject({ code: 'EEXIST' });
    for (let i = 0; i < 128; i++) await a.xenstore.unwatch(`data/w${i}`, 't');
    await expect(a.xenstore.read('data//x')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(a.xenstore.write('data/x/', 'v')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(a.xenstore.read('data/a b')).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
