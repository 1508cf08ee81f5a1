/**
 * Semantics particular to the simulated host, with several domains joined from this one process
 * (each join is its own domain). What every host must do is in test/conformance/; the
 * multi-process acceptance tests live in test/sim/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventChannel } from '@xenipc/core';
import {
  getSimLedger,
  joinSimulatedHost,
  type SimBackend,
  SimEventChannel,
  type SimulatedHost,
  startSimulatedHost,
} from '@xenipc/sim';

let dir: string;
let host: SimulatedHost;
const joined: SimBackend[] = [];

async function domains(count: number): Promise<SimBackend[] & [SimBackend, SimBackend, SimBackend]> {
  const list: SimBackend[] = [];
  for (let i = 0; i < count; i++) list.push(await joinSimulatedHost({ dir, autoStart: false }));
  joined.push(...list);
  return list as SimBackend[] & [SimBackend, SimBackend, SimBackend];
}

function nextEvent(channel: EventChannel, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no event')), timeoutMs);
    channel.once('event', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs `attempt`; resolves with 'ok' or the errno code it failed with (for expect.poll). */
async function outcome(attempt: () => Promise<unknown>): Promise<string> {
  try {
    await attempt();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenipc-sim-unit-'));
  host = await startSimulatedHost({ dir, grantLimit: 64 });
});

afterEach(async () => {
  await Promise.all(joined.splice(0).map((d) => d.close()));
  expect(host.ledger()).toEqual({ hostPid: process.pid, domains: [], totals: { grants: 0, mappings: 0, ports: 0, watches: 0, transactions: 0, xenstoreConnections: 0, grantFiles: 0, xenstoreNodes: 3, staleDomains: 0 } });
});

afterAll(async () => {
  await host.close();
  expect(readdirSync(dir)).toEqual([]);
  rmSync(dir, { recursive: true });
});

describe('simulated host: grants', () => {
  it('a grant stops being mappable once its sharer lets go; an existing mapping keeps working', async () => {
    const [a, b] = await domains(2);
    const pages = await a.share(b.domid, 1);
    const mapping = await b.map(a.domid, pages.refs);
    new Uint8Array(pages.buffer)[9] = 9;
    pages.close();
    expect(new Uint8Array(mapping.buffer)[9]).toBe(9);
    // The host learns of the close asynchronously; until then a map may still succeed.
    await expect.poll(() => outcome(async () => (await b.map(a.domid, pages.refs)).close())).toBe('EINVAL');
    await expect(b.map(a.domid, pages.refs)).rejects.toMatchObject({ code: 'EINVAL', syscall: 'mmap' });
    expect((await getSimLedger(dir)).totals.grantFiles).toBe(1); // kept alive by B's mapping
    mapping.close();
  });

  it('rejects bad arguments with EINVAL before asking the host, and maps of unknown domains', async () => {
    const [a, b] = await domains(2);
    await expect(a.share(b.domid, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(a.share(-1, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(a.map(b.domid, [])).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(a.map(4000, [8])).rejects.toMatchObject({ code: 'EINVAL', syscall: 'mmap' });
  });

  it('the grant limit counts pages per domain (ENOSPC) and frees them on close', async () => {
    const [a, b] = await domains(2);
    const big = await a.share(b.domid, 64);
    await expect(a.share(b.domid, 1)).rejects.toMatchObject({ code: 'ENOSPC' });
    await b.share(a.domid, 1); // another domain has its own budget
    big.close();
    await expect.poll(() => outcome(async () => (await a.share(b.domid, 1)).close())).toBe('ok');
  });

  it('unmap-notify validation: CLEAR_BYTE needs a writable mapping, the offset must be inside, the port ours', async () => {
    const [a, b, c] = await domains(3);
    const pages = await a.share(b.domid, 1, { writable: false });
    const mapping = await b.map(a.domid, pages.refs, { writable: false });
    expect(() => mapping.setUnmapNotify({ clearByte: 0 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => pages.setUnmapNotify({ clearByte: 4096 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const foreign = await c.bindUnbound(a.domid);
    expect(() => pages.setUnmapNotify({ sendEvent: foreign })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('simulated host: event channels', () => {
  it('bindInterdomain: ESRCH for a missing domain, EINVAL for a port not offered to us', async () => {
    const [a, b, c] = await domains(3);
    const offer = await a.bindUnbound(b.domid);
    await expect(c.bindInterdomain(a.domid, offer.localPort)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(b.bindInterdomain(a.domid, offer.localPort + 100)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(b.bindInterdomain(7000, 1)).rejects.toMatchObject({ code: 'ESRCH' });
    expect(await offer.status()).toBe('unbound');
    await b.bindInterdomain(a.domid, offer.localPort);
    expect(await offer.status()).toBe('interdomain');
    await expect(c.bindInterdomain(a.domid, offer.localPort)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('events flow both ways, early notifies from the unbound side are relayed, close stops delivery', async () => {
    const [a, b] = await domains(2);
    const aPort = await a.bindUnbound(b.domid);
    const bPort = await b.bindInterdomain(a.domid, aPort.localPort);
    // A may not have heard that B connected yet: its notify then goes through the host.
    let event = nextEvent(bPort);
    aPort.notify();
    await event;
    event = nextEvent(aPort);
    bPort.notify();
    await event;
    let late = 0;
    aPort.on('event', () => late++);
    // A marker on a second channel between the same processes travels after B's notify.
    const markerOffer = await a.bindUnbound(b.domid);
    const markerBound = await b.bindInterdomain(a.domid, markerOffer.localPort);
    await expect.poll(() => (markerBound as SimEventChannel).hasDirectRoute).toBe(true);
    aPort.close();
    bPort.notify();
    const marker = nextEvent(markerOffer);
    markerBound.notify();
    await marker;
    expect(late).toBe(0);
    expect(await aPort.status()).toBe('closed');
    expect(await bPort.status()).toBe('unbound');
  });

  it('an event that arrives before our own bind has completed is not lost (direct link vs host reply race)', async () => {
    const [a, b] = await domains(2);
    // Ports are handed out from 1 in a fresh domain: pretend A's frame for B's port 1 overtook
    // the host's reply to B's bind (they travel on different sockets), i.e. came while the bind
    // was in flight.
    const binding = b.bindUnbound(a.domid);
    b.onEvent(a.domid, 1);
    const early = await binding;
    expect(early.localPort).toBe(1);
    await nextEvent(early);
    // Only from the domain the port is for: a frame from anyone else is ignored.
    const bindingOther = b.bindUnbound(a.domid);
    b.onEvent(7, 2);
    const other = await bindingOther;
    expect(other.localPort).toBe(2);
    let spurious = 0;
    other.on('event', () => spurious++);
    // A real event delivered afterwards: anything the stray frame caused has happened by then.
    const offer = await a.bindUnbound(b.domid);
    const bound = await b.bindInterdomain(a.domid, offer.localPort);
    const real = nextEvent(bound);
    offer.notify();
    await real;
    expect(spurious).toBe(0);
  });

  it('a late event for a port we closed is dropped, not kept: closed ports leave nothing behind', async () => {
    const [a, b] = await domains(2);
    // A marker channel between the same processes: its event travels after B's earlier frames.
    const markerOffer = await a.bindUnbound(b.domid);
    const markerBound = await b.bindInterdomain(a.domid, markerOffer.localPort);
    for (let i = 0; i < 20; i++) {
      const aPort = await a.bindUnbound(b.domid);
      const bPort = await b.bindInterdomain(a.domid, aPort.localPort);
      // B notifies directly before it hears (through the host) that A closed the port.
      aPort.close();
      bPort.notify();
      bPort.close();
    }
    const marker = nextEvent(markerOffer);
    markerBound.notify();
    await marker;
    expect(await a.resources()).toMatchObject({ channels: 1, earlyEvents: 0 });
    expect(await b.resources()).toMatchObject({ channels: 1, earlyEvents: 0 });
  });

  it("no wake-up is lost when the receiver's event queue is full: the overflow goes through the host", async () => {
    const [a, b] = await domains(2);
    // More ports than a Unix datagram queue holds (max_dgram_qlen 512, and ~270 8-byte
    // datagrams fill the default receive buffer). B cannot read while this thread notifies.
    const count = 1000;
    const offers: EventChannel[] = [];
    const received = new Array<number>(count).fill(0);
    for (let i = 0; i < count; i++) {
      const offer = await a.bindUnbound(b.domid);
      const bound = await b.bindInterdomain(a.domid, offer.localPort);
      bound.on('event', () => (received[i] = (received[i] ?? 0) + 1));
      offers.push(offer);
    }
    // A has learnt every direct route (else the notifies would all go through the host).
    await expect.poll(() => offers.every((offer) => (offer as SimEventChannel).hasDirectRoute)).toBe(true);
    for (const offer of offers) offer.notify();
    await expect.poll(() => received.every((n) => n > 0), { timeout: 5000 }).toBe(true);
    expect(received.filter((n) => n !== 1)).toEqual([]);
  });

  it('a domain may connect a channel to itself (Xen allows loopback interdomain channels)', async () => {
    const [a] = await domains(1);
    const offer = await a.bindUnbound(a.domid);
    const other = await a.bindInterdomain(a.domid, offer.localPort);
    let event = nextEvent(offer);
    other.notify();
    await event;
    event = nextEvent(other);
    offer.notify();
    await event;
  });

  it('a peer that leaves turns our port unbound; notify on it is silently dropped (as Xen does)', async () => {
    const [a, b] = await domains(2);
    const aPort = await a.bindUnbound(b.domid);
    await b.bindInterdomain(a.domid, aPort.localPort);
    await b.close();
    expect(await aPort.status()).toBe('unbound');
    aPort.notify();
    expect(await aPort.status()).toBe('unbound');
  });

  it('the host going away makes every channel emit error', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'xenipc-sim-unit2-'));
    const host2 = await startSimulatedHost({ dir: dir2 });
    const a = await joinSimulatedHost({ dir: dir2, autoStart: false });
    const port = await a.bindUnbound(0);
    const failed = new Promise<Error>((resolve) => port.on('error', resolve));
    await host2.close();
    expect(await failed).toMatchObject({ code: 'ENOTCONN' });
    await a.close();
    rmSync(dir2, { recursive: true });
  });
});

describe('simulated host: ledger', () => {
  it("counts each domain's xenstore connections and the nodes under its home, and every node of the store", async () => {
    const [a, b] = await domains(2);
    const line = async (d: SimBackend) => (await getSimLedger(dir)).domains.find((entry) => entry.domid === d.domid);
    expect(await line(a)).toMatchObject({ xenstoreConnections: 1, xenstoreNodes: 4 }); // home, domid, name, data
    await a.xenstore.write('data/x/y', '1');
    expect(await line(a)).toMatchObject({ xenstoreNodes: 6 });
    expect(await line(b)).toMatchObject({ xenstoreNodes: 4 });
    // Nodes outside every home (dom0 may write anywhere) count in the totals.
    const dom0 = await joinSimulatedHost({ dir, autoStart: false, domid: 0 });
    joined.push(dom0);
    await dom0.xenstore.write('/tool/x', '1');
    const extra = await a.connectXenStore();
    expect(await line(a)).toMatchObject({ xenstoreConnections: 2 });
    expect((await getSimLedger(dir)).totals).toMatchObject({ xenstoreConnections: 4, xenstoreNodes: 3 + 6 + 4 + 4 + 2 });
    await dom0.xenstore.rm('/tool');
    extra.close();
    await expect.poll(async () => (await line(a))?.xenstoreConnections).toBe(1);
    await a.xenstore.rm('data/x');
    expect(await line(a)).toMatchObject({ xenstoreNodes: 4 });
  });

  it('a domain that leaves leaves no record behind: a new domain with its domid starts afresh, as on Xen', async () => {
    const [peer] = await domains(1);
    const first = await joinSimulatedHost({ dir, autoStart: false, domid: 90 });
    await first.share(peer.domid, 2);
    await first.bindUnbound(peer.domid);
    await first.close();
    expect((await getSimLedger(dir)).totals.staleDomains).toBe(0);
    const again = await joinSimulatedHost({ dir, autoStart: false, domid: 90 });
    joined.push(again);
    // Grant refs start at 8 (Xen reserves 0..7) and ports at 1 in a fresh domain.
    expect((await again.share(peer.domid, 1)).refs).toEqual([8]);
    expect((await again.bindUnbound(peer.domid)).localPort).toBe(1);
  });

  it('resources(): the host has handled every earlier request of the domain when it answers', async () => {
    const [a, b] = await domains(2);
    const pages = await a.share(b.domid, 3);
    const port = await a.bindUnbound(b.domid);
    expect(await a.resources()).toMatchObject({ host: { domid: a.domid, grants: 3, ports: 1 }, regions: 1, channels: 1, earlyEvents: 0, peerLinks: 0 });
    const mapping = await b.map(a.domid, pages.refs);
    const bound = await b.bindInterdomain(a.domid, port.localPort);
    expect(await b.resources()).toMatchObject({ host: { mappings: 1, ports: 1 }, regions: 1, channels: 1, peerLinks: 1 });
    // Closing sends unmap/unbind without waiting; resources() is answered after them, no polling.
    mapping.close();
    bound.close();
    expect(await b.resources()).toMatchObject({ host: { mappings: 0, ports: 0 }, regions: 0, channels: 0 });
    pages.close();
    port.close();
    expect(await a.resources()).toMatchObject({ host: { grants: 0, ports: 0 }, regions: 0, channels: 0 });
  });
});

describe('simulated host: lifecycle', () => {
  it('a second host for the same directory is refused (EADDRINUSE); a stale host.sock is replaced', async () => {
    await expect(startSimulatedHost({ dir })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const dir2 = mkdtempSync(join(tmpdir(), 'xenipc-sim-stale-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir2, 'host.sock'), 'stale');
    const host2 = await startSimulatedHost({ dir: dir2 });
    const a = await joinSimulatedHost({ dir: dir2, autoStart: false });
    expect(a.domid).toBe(1);
    await a.close();
    await host2.close();
    expect(readdirSync(dir2)).toEqual([]);
    rmSync(dir2, { recursive: true });
  });

  it('joining without a host and without autoStart says how to start one', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'xenipc-sim-none-'));
    await expect(joinSimulatedHost({ dir: dir2, autoStart: false })).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('xenipc sim') });
    rmSync(dir2, { recursive: true });
  });
});
