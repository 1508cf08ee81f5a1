/**
 * Every wrapped ioctl against the real devices, in ONE domain as root: grants are made to our
 * own domid and event channels connect two evtchn fds of this process (as xen-rig's xentest
 * self suite does). Skipped, saying so, where /dev/xen is absent. DMABUF must report ENOTTY
 * cleanly on kernels without CONFIG_XEN_GNTDEV_DMABUF (Debian's), and is exercised when present.
 */
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventChannelDevice,
  GNTST_OKAY,
  GrantAllocator,
  GrantMapper,
  mapFile,
  UNMAP_NOTIFY_CLEAR_BYTE,
  XenError,
} from '@xenipc/core';
import { delay, EventCounter, hasXen, selfDomid, xenSuiteTitle, xenstoredRunning } from './self-domain.js';

function captureError(call: () => unknown): XenError {
  try {
    call();
  } catch (err) {
    if (err instanceof XenError) return err;
    throw err;
  }
  throw new Error('expected the call to throw');
}

describe.skipIf(!hasXen)(xenSuiteTitle('evtchn device'), () => {
  let self = 0;
  let a: EventChannelDevice;
  let b: EventChannelDevice;
  beforeAll(async () => {
    self = await selfDomid();
    a = EventChannelDevice.open();
    b = EventChannelDevice.open();
  });
  afterAll(() => {
    a.close();
    b.close();
  });

  it('BIND_UNBOUND_PORT + BIND_INTERDOMAIN (spurious first event) + NOTIFY both ways + UNBIND', async () => {
    const onA = new EventCounter();
    const onB = new EventCounter();
    const pa = a.bindUnboundPort(self);
    expect(pa).toBeGreaterThan(0);
    a.listen(pa, { event: onA.hit });
    const pb = b.bindInterdomain(self, pa);
    expect(pb).toBeGreaterThan(0);
    b.listen(pb, { event: onB.hit });
    // Xen marks the binder's new port pending on bind_interdomain (xen-rig gotcha 7).
    await onB.until(1, 2000);
    const afterBind = onB.count;

    b.notify(pb);
    await onA.until(1);
    a.notify(pa);
    await onB.until(afterBind + 1);

    // Coalescing: several notifies before delivery give at least one event, at most as many.
    const before = onA.count;
    b.notify(pb);
    b.notify(pb);
    b.notify(pb);
    await onA.until(before + 1);
    await delay(100);
    expect(onA.count - before).toBeGreaterThanOrEqual(1);
    expect(onA.count - before).toBeLessThanOrEqual(3);

    a.unbind(pa);
    expect(captureError(() => a.notify(pa))).toMatchObject({ code: 'ENOTCONN', syscall: 'IOCTL_EVTCHN_NOTIFY' });
    expect(captureError(() => a.unbind(pa))).toMatchObject({ code: 'ENOTCONN', syscall: 'IOCTL_EVTCHN_UNBIND' });
    b.unbind(pb);
    expect(a.listenerCount + b.listenerCount).toBe(0);
    expect(a.keepsProcessAlive || b.keepsProcessAlive).toBe(false);
  });

  it('BIND_INTERDOMAIN to a port that is not offered fails with a XenError', () => {
    const err = captureError(() => b.bindInterdomain(self, 0xfffff));
    expect(err.syscall).toBe('IOCTL_EVTCHN_BIND_INTERDOMAIN');
    expect(err.errno).toBeGreaterThan(0);
  });

  it('BIND_VIRQ: VIRQ_DOM_EXC in dom0 without xenstored gives a port; a bad VIRQ gives EINVAL', async () => {
    const VIRQ_DOM_EXC = 3;
    if (self === 0 && !xenstoredRunning) {
      const port = a.bindVirq(VIRQ_DOM_EXC);
      expect(port).toBeGreaterThan(0);
      a.unbind(port);
    } else {
      // Xen refuses a global VIRQ outside dom0, or xenstored already holds it.
      try {
        const port = a.bindVirq(VIRQ_DOM_EXC);
        a.unbind(port);
      } catch (err) {
        expect(err).toMatchObject({ syscall: 'IOCTL_EVTCHN_BIND_VIRQ' });
      }
    }
    expect(captureError(() => a.bindVirq(100_000))).toMatchObject({ code: 'EINVAL', syscall: 'IOCTL_EVTCHN_BIND_VIRQ' });
  });

  it('RESET succeeds on a live fd', () => {
    expect(() => a.reset()).not.toThrow();
  });

  it('RESTRICT_DOMID: binding for another domain is refused, a second restriction too; the named domain (if not 0) is allowed', () => {
    const restricted = EventChannelDevice.open();
    try {
      const other = self === 0 ? 1 : self + 1;
      restricted.restrictDomid(other);
      const err = captureError(() => restricted.bindUnboundPort(self));
      expect(err).toMatchObject({ syscall: 'IOCTL_EVTCHN_BIND_UNBOUND_PORT' });
      expect(['EACCES', 'EPERM']).toContain(err.code);
      expect(err.message).toMatch(/RESTRICT_DOMID/);
      const again = captureError(() => restricted.restrictDomid(other));
      expect(again).toMatchObject({ code: 'EACCES', syscall: 'IOCTL_EVTCHN_RESTRICT_DOMID', message: expect.stringMatching(/already restricted/) });
    } finally {
      restricted.close();
    }
    const toSelf = EventChannelDevice.open();
    try {
      if (self === 0) {
        // Linux refuses domain 0 as the restriction; checked before the ioctl.
        expect(captureError(() => toSelf.restrictDomid(0))).toMatchObject({ code: 'EINVAL', syscall: 'IOCTL_EVTCHN_RESTRICT_DOMID' });
      } else {
        toSelf.restrictDomid(self);
        const port = toSelf.bindUnboundPort(self);
        expect(port).toBeGreaterThan(0);
        toSelf.unbind(port);
      }
    } finally {
      toSelf.close();
    }
  });
});

describe.skipIf(!hasXen)(xenSuiteTitle('gntalloc + gntdev devices'), () => {
  let self = 0;
  let alloc: GrantAllocator;
  let mapper: GrantMapper;
  beforeAll(async () => {
    self = await selfDomid();
    alloc = GrantAllocator.open();
    mapper = GrantMapper.open();
  });
  afterAll(() => {
    mapper.close();
    alloc.close();
  });

  it('ALLOC_GREF + mmap, MAP_GRANT_REF + mmap: data flows both ways, pages in the order given', () => {
    const shared = alloc.share(self, 2, { writable: true });
    expect(shared.refs).toHaveLength(2);
    expect(new Set(shared.refs).size).toBe(2);
    const granted = new Uint8Array(shared.buffer);
    expect(granted.length).toBe(8192);
    expect(granted.every((b) => b === 0)).toBe(true); // fresh pages are zeroed
    granted.fill(0x11, 0, 4096);
    granted.fill(0x22, 4096);
    const reversed = mapper.map(self, [shared.refs[1] as number, shared.refs[0] as number], { writable: true });
    const mapped = new Uint8Array(reversed.buffer);
    expect([mapped[0], mapped[4095], mapped[4096], mapped[8191]]).toEqual([0x22, 0x22, 0x11, 0x11]);
    mapped[10] = 0x99;
    expect(granted[4096 + 10]).toBe(0x99);
    reversed.close();
    expect(mapped.length).toBe(0); // detached
    shared.close();
    expect(granted.length).toBe(0);
  });

  it('per-ref domids, read-only maps, GET_OFFSET_FOR_VADDR, SET_MAX_GRANTS', () => {
    const shared = alloc.share(self, 1, { writable: false });
    new Uint8Array(shared.buffer)[0] = 7;
    const ro = mapper.map([self], shared.refs, { writable: false });
    expect(new Uint8Array(ro.buffer)[0]).toBe(7);
    expect(mapper.getOffsetForVaddr(ro.mapping.address)).toEqual({ offset: ro.index, count: 1 });
    // CLEAR_BYTE needs a writable map: refused before the ioctl.
    expect(captureError(() => ro.setUnmapNotify({ clearByte: 0 }))).toMatchObject({ code: 'EINVAL' });
    expect(typeof mapper.setMaxGrants(64)).toBe('boolean');
    ro.close();
    shared.close();
  });

  it('low-level MAP/UNMAP_GRANT_REF and ALLOC/DEALLOC_GREF; unknown index gives a XenError', () => {
    const { index, refs } = alloc.allocGrefs(self, 3, { writable: true });
    expect(index % 4096).toBe(0);
    const registered = mapper.mapGrantRefs(self, refs);
    expect(registered % 4096).toBe(0);
    mapper.unmapGrantRefs(registered, 3);
    expect(captureError(() => mapper.unmapGrantRefs(registered, 3)).syscall).toBe('IOCTL_GNTDEV_UNMAP_GRANT_REF');
    alloc.deallocGrefs(index, 3);
    expect(captureError(() => alloc.deallocGrefs(index, 3)).syscall).toBe('IOCTL_GNTALLOC_DEALLOC_GREF');
  });

  it('mapping a grant that does not exist fails at mmap and leaves no registration', () => {
    const shared = alloc.share(self, 1, { writable: true });
    const probe = mapper.mapGrantRefs(self, shared.refs); // the lowest free index
    mapper.unmapGrantRefs(probe, 1);
    const err = captureError(() => mapper.map(self, [0x7fff_fff0], { writable: true }));
    expect(err.syscall).toBe('mmap');
    // gntdev hands out the lowest free index: getting `probe` again shows the failed map was unregistered.
    const again = mapper.mapGrantRefs(self, shared.refs);
    expect(again).toBe(probe);
    mapper.unmapGrantRefs(again, 1);
    shared.close();
  });

  it('GNTDEV SET_UNMAP_NOTIFY: closing the map clears the byte in the granter page and sends the event', async () => {
    const a = EventChannelDevice.open();
    const b = EventChannelDevice.open();
    try {
      const onA = new EventCounter();
      const pa = a.bindUnboundPort(self);
      a.listen(pa, { event: onA.hit });
      const pb = b.bindInterdomain(self, pa);
      const shared = alloc.share(self, 2, { writable: true });
      const granted = new Uint8Array(shared.buffer);
      const map = mapper.map(self, shared.refs, { writable: true });
      granted[4100] = 0xaa;
      map.setUnmapNotify({ clearByte: 4100, port: pb });
      map.close();
      expect(granted[4100]).toBe(0);
      await onA.until(1);
      shared.close();
    } finally {
      a.close();
      b.close();
    }
  });

  it('GNTALLOC SET_UNMAP_NOTIFY: releasing the shared pages clears the byte a live mapper sees, and sends the event', async () => {
    const a = EventChannelDevice.open();
    const b = EventChannelDevice.open();
    try {
      const onB = new EventCounter();
      const pa = a.bindUnboundPort(self);
      const pb = b.bindInterdomain(self, pa);
      await delay(50); // let the spurious bind event pass before counting
      b.listen(pb, { event: onB.hit });
      const shared = alloc.share(self, 2, { writable: true });
      const map = mapper.map(self, shared.refs, { writable: true });
      const seen = new Uint8Array(map.buffer);
      new Uint8Array(shared.buffer)[1] = 0x55;
      new Uint8Array(shared.buffer)[4097] = 0x66;
      shared.setUnmapNotify({ clearByte: 1 });
      shared.setUnmapNotify({ clearByte: 4097, port: pa }); // replaces: page 0's notify is removed
      shared.close();
      expect(seen[4097]).toBe(0);
      expect(seen[1]).toBe(0x55);
      await onB.until(1);
      map.close();
    } finally {
      a.close();
      b.close();
    }
  });

  it('GRANT_COPY grant -> buffer and buffer -> grant in one call; a bad ref gives a GNTST status', () => {
    const shared = alloc.share(self, 1, { writable: true });
    const page = new Uint8Array(shared.buffer);
    for (let i = 0; i < 256; i++) page[512 + i] = i;
    const into = new Uint8Array(300);
    const from = Uint8Array.from({ length: 128 }, (_, i) => 255 - i);
    const ref = shared.refs[0] as number;
    const statuses = mapper.grantCopy([
      { source: { ref, domid: self, offset: 512 }, dest: { buffer: into, byteOffset: 10 }, length: 256 },
      { source: { buffer: from }, dest: { ref, domid: self, offset: 2048 }, length: 128 },
    ]);
    expect(Array.from(statuses)).toEqual([GNTST_OKAY, GNTST_OKAY]);
    expect(Array.from(into.subarray(10, 266))).toEqual(Array.from({ length: 256 }, (_, i) => i));
    expect(Array.from(page.subarray(2048, 2176))).toEqual(Array.from(from));
    const bad = mapper.grantCopy([{ source: { ref: 0x7fff_fff0, domid: self, offset: 0 }, dest: { buffer: into }, length: 16 }]);
    expect(bad[0]).toBeLessThan(0);
    shared.close();
  });

  it('DMABUF ioctls: ENOTTY with the CONFIG_XEN_GNTDEV_DMABUF sentence, or a working export/import', async () => {
    const shared = alloc.share(self, 1, { writable: true });
    let exported: number | undefined;
    try {
      exported = mapper.dmabufExportFromRefs(self, shared.refs);
    } catch (err) {
      expect(err).toMatchObject({ code: 'ENOTTY', syscall: 'IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS' });
      expect((err as XenError).message).toMatch(/CONFIG_XEN_GNTDEV_DMABUF/);
      await expect(mapper.dmabufExportWaitReleased(3, 10)).rejects.toMatchObject({ code: 'ENOTTY', message: expect.stringMatching(/CONFIG_XEN_GNTDEV_DMABUF/) });
      expect(captureError(() => mapper.dmabufImportToRefs(3, self, 1))).toMatchObject({ code: 'ENOTTY' });
      expect(captureError(() => mapper.dmabufImportRelease(3))).toMatchObject({ code: 'ENOTTY' });
    }
    if (exported !== undefined) {
      const refs = mapper.dmabufImportToRefs(exported, self, 1);
      expect(refs).toHaveLength(1);
      mapper.dmabufImportRelease(exported);
      const released = mapper.dmabufExportWaitReleased(exported, 5000);
      closeSync(exported);
      await released;
    }
    shared.close();
  });

  it('gntalloc ENOSPC at the module limit names the limit file', (ctx) => {
    const limitPath = '/sys/module/xen_gntalloc/parameters/limit';
    const limit = existsSync(limitPath) ? Number(readFileSync(limitPath, 'utf8')) : 1024;
    if (limit > 4096) ctx.skip(`gntalloc limit ${limit} is too large to exhaust in a test`);
    const held: Array<{ index: number; count: number }> = [];
    try {
      let err: XenError | undefined;
      for (let total = 0; total <= limit && err === undefined;) {
        const count = Math.min(1024, limit + 1 - total);
        try {
          const { index } = alloc.allocGrefs(self, count, { writable: false });
          held.push({ index, count });
          total += count;
        } catch (e) {
          if (!(e instanceof XenError)) throw e;
          err = e;
        }
      }
      expect(err).toBeDefined();
      expect(err).toMatchObject({ code: 'ENOSPC', syscall: 'IOCTL_GNTALLOC_ALLOC_GREF' });
      expect(err?.message).toContain(limitPath);
    } finally {
      for (const { index, count } of held) alloc.deallocGrefs(index, count);
    }
  });

  it('UNMAP_NOTIFY constants match what the kernel accepts (CLEAR_BYTE on a writable map)', () => {
    const shared = alloc.share(self, 1, { writable: true });
    const map = mapper.map(self, shared.refs, { writable: true });
    mapper.setUnmapNotify(map.index + 3, UNMAP_NOTIFY_CLEAR_BYTE, 0);
    new Uint8Array(shared.buffer)[3] = 1;
    map.close();
    expect(new Uint8Array(shared.buffer)[3]).toBe(0);
    shared.close();
  });

  it('gntalloc SET_UNMAP_NOTIFY needs the grefs still allocated (why share() deallocates at close, not at once)', () => {
    const { index } = alloc.allocGrefs(self, 1, { writable: true });
    const mapped = mapFile(alloc.fd, index, 4096, { writable: true });
    alloc.setUnmapNotify(index, UNMAP_NOTIFY_CLEAR_BYTE, 0); // allocated: accepted
    alloc.deallocGrefs(index, 1); // the mapping keeps the page alive, the fd no longer knows it
    const err = captureError(() => alloc.setUnmapNotify(index, UNMAP_NOTIFY_CLEAR_BYTE, 0));
    expect(err.syscall).toBe('IOCTL_GNTALLOC_SET_UNMAP_NOTIFY');
    expect(err.errno).toBeGreaterThan(0);
    mapped.unmap();
  });

  it('a grant mapping whose buffer is garbage-collected is unmapped and unregistered', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const shared = alloc.share(self, 1, { writable: true });
    const gntdevMappings = (): number => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('/dev/xen/gntdev')).length;
    const before = gntdevMappings();
    let index = -1;
    (() => {
      const dropped = mapper.map(self, shared.refs, { writable: true });
      index = dropped.index;
    })();
    expect(gntdevMappings()).toBe(before + 1);
    for (let i = 0; i < 10 && gntdevMappings() > before; i++) {
      gc();
      await delay(20);
    }
    await delay(50); // the FinalizationRegistry callback runs as its own task
    expect(gntdevMappings()).toBe(before);
    // gntdev hands out the lowest free index: the same one again proves the registration is gone.
    const again = mapper.mapGrantRefs(self, shared.refs);
    expect(again).toBe(index);
    mapper.unmapGrantRefs(again, 1);
    shared.close();
  });
});
