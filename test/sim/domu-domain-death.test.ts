/**
 * Whole-domain death seen from a domU on the simulated host (issue 17 item 2). The peer is a
 * separate OS process that speaks the vchan protocol by hand and sets NO unmap-notify, so when it
 * is SIGKILLed nothing clears its live byte: only domain-death detection can end the channel.
 * As on real Xen 4.17, the domU does not hear @releaseDomain (dom0 does); it finds out from its
 * port's status, or, where the backend cannot read port status (Linux's evtchn device: the real
 * backend), by asking Xen: a server probes the client's domain (probeDomain), a client tries a
 * grant copy from the server's page (probeOwner); see packages/channel/src/domain-death-watch.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventChannel, XenBackend, XsWatchEvent } from '@xenipc/core';
import { joinSimulatedHost, type SimBackend, type SimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { controlPage, VchanClient, VchanServer, type CloseReason, type VchanEndpoint } from '@xenipc/channel';
import { DomainProcess } from '../support/domain-process.js';

/** Generous bound on detection time: ten of domain-death-watch's 1 s poll periods (loaded box). */
const DETECTION_BOUND_MS = 10_000;

let dir: string;
let host: SimulatedHost;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenipc-domu-death-'));
  host = await startSimulatedHost({ dir });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

async function join_(domid?: number): Promise<SimBackend> {
  const backend = await joinSimulatedHost({ dir, autoStart: false, ...(domid === undefined ? {} : { domid }) });
  cleanups.push(() => backend.close());
  return backend;
}

async function peerDomain(): Promise<[DomainProcess, number]> {
  const peer = new DomainProcess(dir);
  cleanups.push(() => peer.close());
  const { domid } = await peer.do('join');
  return [peer, domid as number];
}

/** Counts @releaseDomain events (after the one every new watch fires) on its own connection. */
async function releaseSpy(backend: SimBackend): Promise<{ count: () => number; next: Promise<void> }> {
  const xs = await backend.connectXenStore();
  cleanups.push(async () => xs.close());
  const events: XsWatchEvent[] = [];
  let resolveNext: () => void = () => undefined;
  const next = new Promise<void>((resolve) => (resolveNext = resolve));
  let initialSeen = false;
  const initial = new Promise<void>((resolve) => {
    xs.on('watch', (e) => {
      if (e.token !== 'spy') return;
      if (!initialSeen) {
        initialSeen = true; // xenstored fires every new watch once, whoever registers it
        resolve();
        return;
      }
      events.push(e);
      resolveNext();
    });
  });
  await xs.watch('@releaseDomain', 'spy');
  await initial;
  return { count: () => events.length, next };
}

/** `backend`, except that its ports cannot tell their status: as the real backend on Linux. */
function withoutPortStatus(backend: SimBackend, probes: { count: number; owner?: number }): XenBackend {
  const blind = (evtchn: EventChannel): EventChannel => Object.assign(evtchn, { status: () => Promise.resolve('unknown' as const) });
  return {
    domid: backend.domid,
    xenstore: backend.xenstore,
    share: (peer, count, options) => backend.share(peer, count, options),
    map: async (peer, refs, options) => {
      const mapping = await backend.map(peer, refs, options);
      const probeOwner = mapping.probeOwner.bind(mapping);
      return Object.assign(mapping, {
        probeOwner: () => {
          probes.owner = (probes.owner ?? 0) + 1;
          return probeOwner();
        },
      });
    },
    bindUnbound: async (peer) => blind(await backend.bindUnbound(peer)),
    bindInterdomain: async (peer, port) => blind(await backend.bindInterdomain(peer, port)),
    probeDomain: (domid) => {
      probes.count++;
      return backend.probeDomain(domid);
    },
    close: () => backend.close(),
  };
}

/** The client, by hand: bind, map the control page, say "connected", notify. No unmap-notify. */
async function connectByHand(peer: DomainProcess, serverDomid: number, server: VchanServer): Promise<void> {
  const ringRef = Number((await peer.do('xsRead', { path: `${server.path}/ring-ref` })).value);
  const port = Number((await peer.do('xsRead', { path: `${server.path}/event-channel` })).value);
  const { channel } = await peer.do('bindInterdomain', { peer: serverDomid, port });
  const { region } = await peer.do('map', { peer: serverDomid, refs: [ringRef] });
  await peer.do('poke', { region, offset: controlPage.CLI_LIVE, value: controlPage.LIVE_CONNECTED });
  await peer.do('notify', { channel, times: 1 });
  await server.whenConnected();
}

function closeReason(endpoint: VchanEndpoint): Promise<CloseReason> {
  return new Promise((resolve) => endpoint.once('close', resolve));
}

describe('a domU sees its peer domain die (no unmap-notify) as domain-gone', () => {
  it('as vchan server: the client domain is SIGKILLed', async () => {
    const self = await join_();
    expect(self.domid).not.toBe(0);
    const dom0 = await join_(0);
    const [peer, peerId] = await peerDomain();
    const domUHears = await releaseSpy(self);
    const dom0Hears = await releaseSpy(dom0);

    const server = await VchanServer.listen(self, { peer: peerId, port: 'domu-death-srv', waitForClient: false });
    cleanups.push(() => server.close());
    await connectByHand(peer, self.domid, server);

    const reason = closeReason(server);
    const killedAt = performance.now();
    await peer.kill();
    expect(await reason).toBe('domain-gone');
    const detectedMs = performance.now() - killedAt;
    expect(detectedMs).toBeLessThan(DETECTION_BOUND_MS);

    await dom0Hears.next; // dom0 heard @releaseDomain for that death ...
    await self.xenstore.read('domid'); // ... and a round trip later the domU still has not:
    expect(domUHears.count()).toBe(0);
  }, 30_000);

  it('as vchan server on a backend that cannot read port status (as on Linux): found by probing the domain', async () => {
    const self = await join_();
    const [peer, peerId] = await peerDomain();
    const probes = { count: 0 };
    const server = await VchanServer.listen(withoutPortStatus(self, probes), { peer: peerId, port: 'domu-death-probe', waitForClient: false });
    cleanups.push(() => server.close());
    await connectByHand(peer, self.domid, server);

    const reason = closeReason(server);
    const killedAt = performance.now();
    await peer.kill();
    expect(await reason).toBe('domain-gone');
    expect(performance.now() - killedAt).toBeLessThan(DETECTION_BOUND_MS);
    expect(probes.count).toBeGreaterThan(0); // xenstore could not tell (EACCES): Xen was asked
  }, 30_000);

  for (const portStatus of [true, false]) {
    const how = portStatus ? '' : ' on a backend that cannot read port status (as on Linux): found by a grant copy from its page';
    it(`as vchan client: the server domain is SIGKILLed${how}`, async () => {
      const self = await join_();
      const [peer, peerId] = await peerDomain();
      const domUHears = await releaseSpy(self);

      // The server, by hand: one granted page with both rings in it, an unbound port, the keys.
      const { region, refs } = await peer.do('share', { peer: self.domid, count: 1 });
      const { port } = await peer.do('bindUnbound', { peer: self.domid });
      await peer.do('poke', { region, offset: controlPage.LEFT_ORDER, value: 10 });
      await peer.do('poke', { region, offset: controlPage.RIGHT_ORDER, value: 11 });
      await peer.do('poke', { region, offset: controlPage.CLI_LIVE, value: controlPage.LIVE_WAITING });
      await peer.do('poke', { region, offset: controlPage.SRV_LIVE, value: controlPage.LIVE_CONNECTED });
      const name = `domu-death-cli-${String(portStatus)}`;
      const path = `/local/domain/${peerId}/data/vchan/${self.domid}/${name}`;
      const perms = [{ domid: peerId, perm: 'none' }, { domid: self.domid, perm: 'read' }];
      await peer.do('xs', { method: 'write', args: [`${path}/ring-ref`, String((refs as number[])[0])] });
      await peer.do('xs', { method: 'setPerms', args: [`${path}/ring-ref`, perms] });
      await peer.do('xs', { method: 'write', args: [`${path}/event-channel`, String(port)] });
      await peer.do('xs', { method: 'setPerms', args: [`${path}/event-channel`, perms] });

      const probes: { count: number; owner?: number } = { count: 0 };
      const backend = portStatus ? self : withoutPortStatus(self, probes);
      const client = await VchanClient.connect(backend, { peer: peerId, port: name, timeoutMs: 10_000 });
      cleanups.push(() => client.close());
      expect(client.isOpen).toBe(true);

      const reason = closeReason(client);
      const killedAt = performance.now();
      await peer.kill();
      expect(await reason).toBe('domain-gone');
      expect(performance.now() - killedAt).toBeLessThan(DETECTION_BOUND_MS);
      await self.xenstore.read('domid');
      expect(domUHears.count()).toBe(0);
      // Xen was asked through the mapping (a grant copy), never by probing the domain: the
      // client's own mapping of the server's pages would keep a dead server domain known.
      if (!portStatus) {
        expect(probes.owner).toBeGreaterThan(0);
        expect(probes.count).toBe(0);
      }
    }, 30_000);
  }
});
