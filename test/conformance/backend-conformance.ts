/**
 * XenBackend behaviour that must hold on every host: the loopback host and the simulated host
 * (test/conformance/*.test.ts, in `pnpm test`) and real Xen (test/xen/conformance/, in
 * `pnpm test:xen`). Written once, in the way of ocaml-vchan's tests over its memory/event functor.
 * Real Xen is the reference: where another host disagrees, that host is wrong.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '@xenipc/core';
import type { DomainHandle } from '../support/domain-driver.js';
import type { BackendHarness, HostCapabilities } from './backend-harness.js';

/** A domid no test host ever hands out (hosts count up from 1; real Xen from 1 too). */
const NEVER_USED_DOMID = 0x7fe0;

/** A offers an unbound port to B, B binds it: the two ends of one channel. */
async function connectChannel(a: DomainHandle, b: DomainHandle): Promise<{ aChannel: number; bChannel: number; aPort: number }> {
  const { channel: aChannel, port: aPort } = await a.do('bindUnbound', { peer: b.domid });
  const { channel: bChannel } = await b.do('bindInterdomain', { peer: a.domid, port: aPort });
  return { aChannel, bChannel, aPort };
}

/** A shares `count` pages with B, B maps them writable. */
async function shareAndMap(a: DomainHandle, b: DomainHandle, count = 1): Promise<{ aRegion: number; bRegion: number; refs: number[] }> {
  const { region: aRegion, refs } = await a.do('share', { peer: b.domid, count });
  const { region: bRegion } = await b.do('map', { peer: a.domid, refs });
  return { aRegion, bRegion, refs };
}

export function describeBackendConformance(label: string, caps: HostCapabilities, makeHarness: () => Promise<BackendHarness>): void {
  describe(`XenBackend conformance (${label})`, () => {
    let harness: BackendHarness | undefined;
    const host = async (): Promise<BackendHarness> => (harness ??= await makeHarness());
    const two = async (): Promise<[DomainHandle, DomainHandle]> => {
      const h = await host();
      return [await h.domain(), await h.domain()];
    };

    afterEach(async () => {
      await harness?.afterEach();
    });
    afterAll(async () => {
      await harness?.close();
    });

    describe('grants', () => {
      it('share + map: the same bytes on both sides, written either way; the mapping is refs.length pages', async () => {
        const [a, b] = await two();
        const { region: aRegion, refs } = await a.do('share', { peer: b.domid, count: 3 });
        expect(refs).toHaveLength(3);
        const { region: bRegion, bytes } = await b.do('map', { peer: a.domid, refs });
        expect(bytes).toBe(3 * PAGE_SIZE);
        for (const offset of [0, PAGE_SIZE + 7, 3 * PAGE_SIZE - 1]) {
          await a.do('poke', { region: aRegion, offset, value: 0xa5 });
          expect((await b.do('peek', { region: bRegion, offset })).value).toBe(0xa5);
          await b.do('poke', { region: bRegion, offset, value: 0x5a });
          expect((await a.do('peek', { region: aRegion, offset })).value).toBe(0x5a);
        }
      });

      it('close detaches the buffer (byteLength 0, never a dangling view) and is idempotent', async () => {
        const [a, b] = await two();
        const { aRegion, bRegion } = await shareAndMap(a, b, 2);
        expect((await b.do('closeRegion', { region: bRegion })).byteLength).toBe(0);
        expect((await b.do('closeRegion', { region: bRegion })).byteLength).toBe(0);
        expect((await a.do('closeRegion', { region: aRegion })).byteLength).toBe(0);
      });

      it('a read-only grant maps read-only and sees the sharer\'s bytes; a writable map of it is EINVAL', async () => {
        const [a, b] = await two();
        const { region: aRegion, refs } = await a.do('share', { peer: b.domid, count: 1, writable: false });
        await a.do('poke', { region: aRegion, offset: 100, value: 42 });
        expect((await b.ask('map', { peer: a.domid, refs, writable: true })).error).toBe('EINVAL');
        const { region } = await b.do('map', { peer: a.domid, refs, writable: false });
        expect((await b.do('peek', { region, offset: 100 })).value).toBe(42);
      });

      it('bad arguments are EINVAL before any syscall: no pages, no refs, a reserved domid, port 0', async () => {
        const [a, b] = await two();
        expect((await a.ask('share', { peer: b.domid, count: 0 })).error).toBe('EINVAL');
        expect((await a.ask('share', { peer: 0x7ff0, count: 1 })).error).toBe('EINVAL');
        expect((await b.ask('map', { peer: a.domid, refs: [] })).error).toBe('EINVAL');
        expect((await b.ask('bindInterdomain', { peer: a.domid, port: 0 })).error).toBe('EINVAL');
      });

      it('a ref that was never granted does not map (EINVAL)', async () => {
        const [a, b] = await two();
        await a.do('share', { peer: b.domid, count: 1 });
        expect((await b.ask('map', { peer: a.domid, refs: [123_456] })).error).toBe('EINVAL');
      });

      it.skipIf(!caps.distinctDomains)('a grant maps only in the domain it names; another domain gets EINVAL (skipped where all domains are one)', async () => {
        const h = await host();
        const [a, b] = await two();
        const c = await h.domain();
        const { refs } = await a.do('share', { peer: b.domid, count: 1 });
        expect((await c.ask('map', { peer: a.domid, refs })).error).toBe('EINVAL');
        await b.do('map', { peer: a.domid, refs });
      });

      it('a map names pages in any order, from several shares, contiguously', async () => {
        const [a, b] = await two();
        const first = await a.do('share', { peer: b.domid, count: 2 });
        const second = await a.do('share', { peer: b.domid, count: 1 });
        await a.do('poke', { region: first.region, offset: 0, value: 1 });
        await a.do('poke', { region: first.region, offset: PAGE_SIZE, value: 2 });
        await a.do('poke', { region: second.region, offset: 0, value: 3 });
        const refs = [second.refs[0], first.refs[1], first.refs[0]];
        const { region } = await b.do('map', { peer: a.domid, refs });
        const seen = [];
        for (const page of [0, 1, 2]) seen.push((await b.do('peek', { region, offset: page * PAGE_SIZE })).value);
        expect(seen).toEqual([3, 2, 1]);
      });

      it.skipIf(caps.grantLimit === undefined)('sharing past the grant limit is ENOSPC; closing gives the pages back (skipped where the limit is shared with others)', async () => {
        const [a, b] = await two();
        const { region } = await a.do('share', { peer: b.domid, count: caps.grantLimit });
        expect((await a.ask('share', { peer: b.domid, count: 1 })).error).toBe('ENOSPC');
        await a.do('closeRegion', { region });
        await a.do('share', { peer: b.domid, count: 1 });
      });
    });

    describe('unmap-notify', () => {
      it('the sharer closing its pages clears the byte the mapper sees and sends the mapper one event', async () => {
        const [a, b] = await two();
        const { aRegion, bRegion } = await shareAndMap(a, b);
        const { aChannel, bChannel } = await connectChannel(a, b);
        await a.do('poke', { region: aRegion, offset: 5, value: 1 });
        await a.do('unmapNotify', { region: aRegion, clearByte: 5, channel: aChannel });
        await b.do('armEvent', { channel: bChannel, region: bRegion, offset: 5 });
        await a.do('closeRegion', { region: aRegion });
        expect((await b.do('armedEvent')).value).toBe(0);
      });

      it('the mapper closing its mapping clears the byte in the granted pages and sends the sharer one event', async () => {
        const [a, b] = await two();
        const { aRegion, bRegion } = await shareAndMap(a, b);
        const { aChannel, bChannel } = await connectChannel(a, b);
        await b.do('poke', { region: bRegion, offset: 9, value: 1 });
        await b.do('unmapNotify', { region: bRegion, clearByte: 9, channel: bChannel });
        await a.do('armEvent', { channel: aChannel, region: aRegion, offset: 9 });
        await b.do('closeRegion', { region: bRegion });
        expect((await a.do('armedEvent')).value).toBe(0);
      });

      it('a killed mapper process: its notification still happens (byte cleared, event sent)', async () => {
        const h = await host();
        const a = await h.domain();
        const b = await h.killableDomain();
        const { aRegion, bRegion } = await shareAndMap(a, b);
        const { aChannel, bChannel } = await connectChannel(a, b);
        await b.do('poke', { region: bRegion, offset: 1, value: 1 });
        await b.do('unmapNotify', { region: bRegion, clearByte: 1, channel: bChannel });
        await a.do('armEvent', { channel: aChannel, region: aRegion, offset: 1 });
        await b.kill();
        expect((await a.do('armedEvent')).value).toBe(0);
      });

      it('a killed sharer process: the mapper sees the byte cleared and gets the event; its mapping stays readable', async () => {
        const h = await host();
        const a = await h.killableDomain();
        const b = await h.domain();
        const { aRegion, bRegion } = await shareAndMap(a, b);
        const { aChannel, bChannel } = await connectChannel(a, b);
        await a.do('poke', { region: aRegion, offset: 2, value: 1 });
        await a.do('poke', { region: aRegion, offset: 3, value: 77 });
        await a.do('unmapNotify', { region: aRegion, clearByte: 2, channel: aChannel });
        await b.do('armEvent', { channel: bChannel, region: bRegion, offset: 2 });
        await a.kill();
        expect((await b.do('armedEvent')).value).toBe(0);
        expect((await b.do('peek', { region: bRegion, offset: 3 })).value).toBe(77);
      });
    });

    describe('event channels', () => {
      it('notify works both ways; status is interdomain on both ends (where the host can tell)', async () => {
        const [a, b] = await two();
        const { aChannel, bChannel } = await connectChannel(a, b);
        await b.do('notify', { channel: bChannel });
        expect((await a.do('waitEvents', { channel: aChannel, count: 1 })).events).toBeGreaterThanOrEqual(1);
        await a.do('notify', { channel: aChannel });
        expect((await b.do('waitEvents', { channel: bChannel, count: 1 })).events).toBeGreaterThanOrEqual(1);
        const expected = caps.knowsPortStatus ? 'interdomain' : 'unknown';
        expect((await a.do('status', { channel: aChannel })).status).toBe(expected);
        expect((await b.do('status', { channel: bChannel })).status).toBe(expected);
      });

      it('50 notifies before delivery coalesce into at most two events (one, plus one an unmask may re-raise)', async () => {
        const [a, b] = await two();
        const { aChannel, bChannel } = await connectChannel(a, b);
        await a.do('notify', { channel: aChannel, times: 50 });
        await b.do('waitEvents', { channel: bChannel, count: 1 });
        // A round trip, then one marker event: every event of the batch has been delivered by then.
        await b.do('notify', { channel: bChannel });
        await a.do('waitEvents', { channel: aChannel, count: 1 });
        await a.do('notify', { channel: aChannel });
        const { events } = await b.do('waitEvents', { channel: bChannel, count: 2 });
        expect(events).toBeLessThanOrEqual(3);
      });

      it('an unbound port is unbound; once its peer closes, notify is dropped silently and the port falls back to unbound', async () => {
        const [a, b] = await two();
        const { channel: offered } = await a.do('bindUnbound', { peer: b.domid });
        expect((await a.do('status', { channel: offered })).status).toBe(caps.knowsPortStatus ? 'unbound' : 'unknown');
        const { aChannel, bChannel } = await connectChannel(a, b);
        await b.do('closeChannel', { channel: bChannel });
        await a.do('notify', { channel: aChannel, times: 3 });
        expect((await a.do('status', { channel: aChannel })).status).toBe(caps.knowsPortStatus ? 'unbound' : 'unknown');
      });

      it('binding a port that was never allocated is EINVAL', async () => {
        const [a, b] = await two();
        expect((await b.ask('bindInterdomain', { peer: a.domid, port: 4000 })).error).toBe('EINVAL');
      });

      it.skipIf(!caps.distinctDomains)('binding a port offered to another domain is EINVAL (skipped where all domains are one)', async () => {
        const h = await host();
        const [a, b] = await two();
        const c = await h.domain();
        const { port } = await a.do('bindUnbound', { peer: c.domid });
        expect((await b.ask('bindInterdomain', { peer: a.domid, port })).error).toBe('EINVAL');
      });
    });

    describe('domain death', () => {
      it('probeDomain: a live domain (itself, its peer, dom0) is present, a domid never used is absent; a reserved domid is EINVAL', async () => {
        const [a, b] = await two();
        const dom0 = await (await host()).controlDomain();
        for (const domid of [a.domid, b.domid, 0]) expect((await a.do('probeDomain', { domid })).presence).toBe('present');
        expect((await dom0.do('probeDomain', { domid: b.domid })).presence).toBe('present');
        expect((await a.do('probeDomain', { domid: NEVER_USED_DOMID })).presence).toBe('absent');
        expect((await a.ask('probeDomain', { domid: 0x7ff0 })).error).toBe('EINVAL');
      });

      it('probeOwner: a mapping\'s granting domain is present while it lives; unknown once the mapping is closed', async () => {
        const [a, b] = await two();
        const { bRegion } = await shareAndMap(a, b);
        expect((await b.do('probeOwner', { region: bRegion })).presence).toBe('present');
        await b.do('closeRegion', { region: bRegion });
        expect((await b.do('probeOwner', { region: bRegion })).presence).toBe('unknown');
      });

      it.skipIf(!caps.endsDomains)('probeDomain: a domain that ended is absent, but not while a live domain still maps its pages (probeOwner of that mapping: absent at once) (skipped where the harness cannot end a domain)', async () => {
        const h = await host();
        if (h.endDomain === undefined) throw new Error('endsDomains without endDomain');
        const a = await h.domain();
        const mapped = await h.killableDomain();
        const unmapped = await h.killableDomain();
        // `mapped` shares a page that `a` maps: Xen keeps the dead domain (dying) for as long.
        const { refs } = await mapped.do('share', { peer: a.domid, count: 1 });
        const { region } = await a.do('map', { peer: mapped.domid, refs });
        await h.endDomain(mapped);
        await h.endDomain(unmapped);
        await expect.poll(async () => (await a.do('probeDomain', { domid: unmapped.domid })).presence, { timeout: 5000 }).toBe('absent');
        expect((await a.do('probeDomain', { domid: mapped.domid })).presence).toBe('present');
        // ... but a grant copy from it fails (GNTST_bad_domain): the mapping's owner is gone.
        expect((await a.do('probeOwner', { region })).presence).toBe('absent');
        await a.do('closeRegion', { region });
        await expect.poll(async () => (await a.do('probeDomain', { domid: mapped.domid })).presence, { timeout: 5000 }).toBe('absent');
      });

      it.skipIf(!caps.endsDomains)('a domain that ends leaves xenstore, dom0 hears @releaseDomain, and its peer\'s port falls back to unbound (skipped where the harness cannot end a domain)', async () => {
        const h = await host();
        if (h.endDomain === undefined) throw new Error('endsDomains without endDomain');
        const dom0 = await h.controlDomain();
        const a = await h.domain();
        const b = await h.killableDomain();
        const { aChannel } = await connectChannel(a, b);
        const home = `/local/domain/${b.domid}`;
        expect((await dom0.do('xs', { method: 'read', args: [`${home}/domid`] })).result).toBe(String(b.domid));
        await dom0.do('xs', { method: 'watch', args: ['@releaseDomain', 'released'] });
        await dom0.do('xsEvents');
        await h.endDomain(b);
        await expect.poll(async () => (await dom0.do('xsEvents')).events.map((e: { token: string }) => e.token), { timeout: 5000 }).toContain('released');
        expect((await dom0.ask('xs', { method: 'read', args: [`${home}/domid`] })).error).toBe('ENOENT');
        await a.do('notify', { channel: aChannel });
        if (caps.knowsPortStatus) await expect.poll(async () => (await a.do('status', { channel: aChannel })).status, { timeout: 5000 }).toBe('unbound');
        await dom0.do('xs', { method: 'unwatch', args: ['@releaseDomain', 'released'] });
      });
    });
  });
}
