/**
 * The three quotas a rendezvous shares with everything else in the domain (issue 17 item 5), on
 * the simulated host, which enforces gntalloc's 1024 pages and xenstored's 10 transactions and
 * 128 watches per connection: many concurrent listens/connects do not starve each other, and
 * when a quota is really exhausted the error names it, its default and the fix.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { XenBackend, XenStore } from '@xenipc/core';
import { joinSimulatedHost, type SimBackend, type SimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { VchanQuotaError } from '../src/quota-error.js';

let dir: string;
let host: SimulatedHost;
let a: SimBackend;
let b: SimBackend;
const endpoints: VchanEndpoint[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenipc-quota-'));
  host = await startSimulatedHost({ dir });
});

afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  a = await joinSimulatedHost({ dir, autoStart: false });
  b = await joinSimulatedHost({ dir, autoStart: false });
});

afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
  expect(host.ledger().totals).toMatchObject({ grants: 0, mappings: 0, ports: 0, transactions: 0 });
});

/** The same domain, seen through another of its xenstore connections (quotas are per connection here). */
function withXenStore(backend: SimBackend, xenstore: XenStore): XenBackend {
  return {
    domid: backend.domid,
    xenstore,
    share: backend.share.bind(backend),
    map: backend.map.bind(backend),
    bindUnbound: backend.bindUnbound.bind(backend),
    bindInterdomain: backend.bindInterdomain.bind(backend),
    probeDomain: backend.probeDomain.bind(backend),
    close: async () => undefined,
  };
}

let nextPort = 1;
const portName = (): string => `q${nextPort++}`;

describe('gntalloc page limit', () => {
  it('100 concurrent 64 KiB servers: as many as fit (1024 / 33 = 31) listen and work, the rest fail fast naming the limit', async () => {
    const ports = Array.from({ length: 100 }, portName);
    const results = await Promise.allSettled(ports.map((port) => VchanServer.listen(a, { peer: b.domid, port, waitForClient: false })));
    const servers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    endpoints.push(...servers);
    expect(servers).toHaveLength(Math.floor(1024 / 33));
    for (const r of results) {
      if (r.status === 'fulfilled') continue;
      const err = r.reason as VchanQuotaError;
      expect(err).toBeInstanceOf(VchanQuotaError);
      expect(err).toMatchObject({ code: 'ENOSPC', quota: 'gntalloc-pages', limit: 1024 });
      expect(err.message).toContain('33 page(s)');
      expect(err.message).toContain('1024');
      expect(err.message).toContain('/sys/module/xen_gntalloc/parameters/limit');
    }
    // The ones that got their pages finish: a client connects to each and a byte goes through.
    const clientPorts = results.flatMap((r, i) => (r.status === 'fulfilled' ? [ports[i] as string] : []));
    const clients = await Promise.all(clientPorts.map((port) => VchanClient.connect(b, { peer: a.domid, port })));
    endpoints.push(...clients);
    for (const [i, client] of clients.entries()) {
      expect(client.write(Uint8Array.of(i))).toBe(1);
      const server = servers[i] as VchanServer;
      await server.waitReadable(1);
      const got = new Uint8Array(1);
      expect(server.read(got)).toBe(1);
      expect(got[0]).toBe(i);
    }
    // Nothing leaked from the failed ones: closing the 31 frees the whole budget again.
    await Promise.all(endpoints.splice(0).map((e) => e.close()));
    expect(host.ledger().totals.grants).toBe(0);
    const again = await Promise.all(Array.from({ length: 31 }, () => VchanServer.listen(a, { peer: b.domid, port: portName(), waitForClient: false })));
    endpoints.push(...again);
  }, 60_000);
});

describe('xenstore transaction quota', () => {
  it('100 concurrent small servers all publish (xenipc keeps its own transactions below the quota)', async () => {
    const servers = await Promise.all(
      Array.from({ length: 100 }, () => VchanServer.listen(a, { peer: b.domid, port: portName(), readSize: 1024, writeSize: 1024, waitForClient: false })),
    );
    endpoints.push(...servers);
    expect(servers).toHaveLength(100);
  }, 60_000);

  it('when other code holds the quota, listen fails naming it, its default and the fix', async () => {
    const xs = await a.connectXenStore();
    const held = await Promise.all(Array.from({ length: 10 }, () => xs.transactionStart()));
    try {
      const backend = withXenStore(a, xs);
      const err = await VchanServer.listen(backend, { peer: b.domid, port: portName(), readSize: 1024, writeSize: 1024, waitForClient: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VchanQuotaError);
      expect(err).toMatchObject({ code: 'ENOSPC', quota: 'xenstore-transactions', limit: 10 });
      expect((err as Error).message).toMatch(/open transactions \(10 by default\)/);
      expect((err as Error).message).toContain('-t <n>');
      expect((err as Error).message).toContain('quota-transaction');
    } finally {
      await Promise.all(held.map((tx) => xs.transactionEnd(tx, false)));
      xs.close();
    }
  }, 30_000);
});

describe('xenstore watch quota', () => {
  it('200 connects waiting at once for servers that appear later all connect (xenipc queues its watches)', async () => {
    const ports = Array.from({ length: 200 }, portName);
    const connecting = Promise.all(ports.map((port) => VchanClient.connect(b, { peer: a.domid, port, timeoutMs: 50_000 })));
    const servers = await Promise.all(ports.map((port) => VchanServer.listen(a, { peer: b.domid, port, readSize: 1024, writeSize: 1024, waitForClient: false })));
    endpoints.push(...servers);
    const clients = await connecting;
    endpoints.push(...clients);
    expect(clients.every((c) => c.isOpen)).toBe(true);
  }, 60_000);

  it('when other code holds the quota, connect fails naming it, its default and the fix', async () => {
    const xs = await b.connectXenStore();
    for (let i = 0; i < 128; i++) await xs.watch(`data/hog${i}`, 'hog');
    try {
      const backend = withXenStore(b, xs);
      const err = await VchanClient.connect(backend, { peer: a.domid, port: portName(), timeoutMs: 5_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VchanQuotaError);
      expect(err).toMatchObject({ code: 'E2BIG', quota: 'xenstore-watches', limit: 128 });
      expect((err as Error).message).toContain('watch quota (128');
      expect((err as Error).message).toContain('-W <n>');
      expect((err as Error).message).toContain('quota-maxwatch');
    } finally {
      xs.close();
    }
  }, 30_000);
});
