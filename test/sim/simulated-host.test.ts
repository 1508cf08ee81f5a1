/**
 * Acceptance tests of the simulated Xen host with real OS processes as domains (not threads).
 * The host runs in this test process; each domain is a domain.fixture.ts child.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSimLedger, type SimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { DomainProcess } from '../support/domain-process.js';

/** Round trips in the ping-pong test; raise for a soak run. */
const PING_PONG_ROUNDS = Number(process.env.XENIPC_SIM_PINGPONG_ROUNDS ?? '10000');

let dir: string;
let host: SimulatedHost;
const domains: DomainProcess[] = [];

async function domain(): Promise<[DomainProcess, number]> {
  const d = new DomainProcess(dir);
  domains.push(d);
  const { domid } = await d.do('join');
  return [d, domid as number];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenipc-sim-test-'));
  host = await startSimulatedHost({ dir });
});

afterEach(async () => {
  await Promise.all(domains.splice(0).map((d) => d.close()));
  const ledger = await getSimLedger(dir);
  expect(ledger.domains).toEqual([]);
  expect(ledger.totals).toEqual({ grants: 0, mappings: 0, ports: 0, watches: 0, transactions: 0, xenstoreConnections: 0, grantFiles: 0, xenstoreNodes: 3, staleDomains: 0 });
});

afterAll(async () => {
  await host.close();
  expect(readdirSync(dir)).toEqual([]); // host.sock removed; nothing else was ever created
  rmSync(dir, { recursive: true });
  if (existsSync('/dev/shm')) expect(readdirSync('/dev/shm').filter((f) => f.includes('xenipc'))).toEqual([]);
});

describe('simulated host with one OS process per domain', () => {
  it('A grants 3 pages to B: writes are visible both ways; C cannot map them (EINVAL, as gntdev mmap)', async () => {
    const [a, aDomid] = await domain();
    const [b, bId] = await domain();
    const [c] = await domain();
    const { refs, region: aRegion } = await a.do('share', { peer: bId, count: 3 });
    expect(refs).toHaveLength(3);
    const { region: bRegion } = await b.do('map', { peer: aDomid, refs });
    for (const offset of [0, 4096 + 7, 3 * 4096 - 1]) {
      await a.do('poke', { region: aRegion, offset, value: 0xa5 });
      expect((await b.do('peek', { region: bRegion, offset })).value).toBe(0xa5);
      await b.do('poke', { region: bRegion, offset, value: 0x5a });
      expect((await a.do('peek', { region: aRegion, offset })).value).toBe(0x5a);
    }
    expect((await c.ask('map', { peer: aDomid, refs })).error).toBe('EINVAL');
    expect((await b.ask('map', { peer: aDomid, refs: [12345] })).error).toBe('EINVAL');
  });

  it('a read-only grant cannot be mapped writable; the per-domain grant limit gives ENOSPC', async () => {
    const [a, aId] = await domain();
    const [b, bId] = await domain();
    const { refs } = await a.do('share', { peer: bId, count: 1, writable: false });
    expect((await b.ask('map', { peer: aId, refs, writable: true })).error).toBe('EINVAL');
    const { region } = await b.do('map', { peer: aId, refs, writable: false });
    expect((await b.do('peek', { region, offset: 0 })).value).toBe(0);
    await a.do('share', { peer: bId, count: 1000 });
    expect((await a.ask('share', { peer: bId, count: 24 })).error).toBe('ENOSPC');
  });

  it(`${PING_PONG_ROUNDS} event ping-pongs with no lost wake-up, and n notifies before delivery give one event`, async () => {
    const [a, aId] = await domain();
    const [b, bId] = await domain();
    const { refs, region: aRegion } = await a.do('share', { peer: bId, count: 1 });
    const { region: bRegion } = await b.do('map', { peer: aId, refs });
    const { channel: aChannel, port } = await a.do('bindUnbound', { peer: bId });
    const { channel: bChannel } = await b.do('bindInterdomain', { peer: aId, port });
    const pong = b.do('pingPong', { region: bRegion, channel: bChannel, rounds: PING_PONG_ROUNDS, pinger: false });
    const ping = await a.do('pingPong', { region: aRegion, channel: aChannel, rounds: PING_PONG_ROUNDS, pinger: true });
    await pong;
    expect((await a.do('peek', { region: aRegion, offset: 0 })).value).toBe((2 * PING_PONG_ROUNDS) & 0xff);
    console.log(`sim ping-pong: ${PING_PONG_ROUNDS} round trips in ${ping.ms.toFixed(0)} ms`);

    // Coalescing: B's event loop is blocked while A notifies 1000 times; then a marker on a second channel.
    const { channel: aMarker, port: markerPort } = await a.do('bindUnbound', { peer: bId });
    const { channel: bMarker } = await b.do('bindInterdomain', { peer: aId, port: markerPort });
    const { channel: bData, port: dataPort } = await b.do('bindUnbound', { peer: aId });
    const { channel: aData } = await a.do('bindInterdomain', { peer: bId, port: dataPort });
    const counted = b.do('countUntil', { channel: bData, marker: bMarker });
    await b.do('block', { ms: 400 });
    await a.do('notify', { channel: aData, times: 1000 });
    await a.do('notify', { channel: aMarker, times: 1 });
    expect((await counted).events).toBe(1);
  });

  it('xenstore across processes: EACCES on a private path, watches on write and rm, EAGAIN then a successful retry', async () => {
    const [a, aId] = await domain();
    const [b, bId] = await domain();
    const shared = `/local/domain/${aId}/data/shared`;
    await a.do('xsWrite', { path: 'data/secret', value: 'a' });
    expect((await a.do('xsRead', { path: `/local/domain/${aId}/data/secret` })).value).toBe('a');
    expect((await b.ask('xsRead', { path: `/local/domain/${aId}/data/secret` })).error).toBe('EACCES');

    // A offers B a writable node (as a vchan server offers ring-ref read-only) and watches it.
    await a.do('xs', { method: 'write', args: [`${shared}/k`, '1'] });
    await a.do('xs', { method: 'setPerms', args: [shared, [{ domid: aId, perm: 'none' }, { domid: bId, perm: 'both' }]] });
    await a.do('xs', { method: 'setPerms', args: [`${shared}/k`, [{ domid: aId, perm: 'none' }, { domid: bId, perm: 'both' }]] });
    await a.do('xs', { method: 'watch', args: [shared, 'w'] });
    await b.do('xs', { method: 'write', args: [`${shared}/k`, '2'] });
    await b.do('xs', { method: 'rm', args: [`${shared}/k`] });
    await a.do('xs', { method: 'read', args: [shared] }); // a round trip after B's changes
    const paths = (await a.do('xsEvents')).events.map((e: { path: string }) => e.path);
    expect(paths).toEqual([shared, `${shared}/k`, `${shared}/k`]);

    // A's transaction reads k; B changes it meanwhile; A's commit fails with EAGAIN; a retry works.
    // A recreates k (xenstored makes the creator of a node its owner; B keeps write access by inheritance).
    await a.do('xs', { method: 'write', args: [`${shared}/k`, '10'] });
    const tx = (await a.do('xs', { method: 'transactionStart', args: [] })).result as number;
    expect((await a.do('xs', { method: 'read', args: [`${shared}/k`, tx] })).result).toBe('10');
    await b.do('xs', { method: 'write', args: [`${shared}/k`, '20'] });
    await a.do('xs', { method: 'write', args: [`${shared}/k`, '11', tx] });
    expect((await a.ask('xs', { method: 'transactionEnd', args: [tx, true] })).error).toBe('EAGAIN');
    const retry = (await a.do('xs', { method: 'transactionStart', args: [] })).result as number;
    const seen = Number((await a.do('xs', { method: 'read', args: [`${shared}/k`, retry] })).result);
    await a.do('xs', { method: 'write', args: [`${shared}/k`, String(seen + 1), retry] });
    await a.do('xs', { method: 'transactionEnd', args: [retry, true] });
    expect((await b.do('xs', { method: 'read', args: [`${shared}/k`] })).result).toBe('21');
    await a.do('xs', { method: 'unwatch', args: [shared, 'w'] });
  });
});
