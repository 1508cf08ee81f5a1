/**
 * Device wrappers without Xen: what a user sees when the devices are missing, and proof that
 * arguments are validated before any syscall. /dev/null stands in for an open device: every
 * ioctl on it fails with ENOTTY, so a call that reaches the kernel reports ENOTTY while a call
 * stopped by validation reports EINVAL.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EventChannelDevice, GrantAllocator, GrantMapper, XenError } from '@xenipc/core';

const hasXen = existsSync('/dev/xen');

function captureError(call: () => unknown): XenError {
  try {
    call();
  } catch (err) {
    if (err instanceof XenError) return err;
    throw err;
  }
  throw new Error('expected the call to throw');
}

describe.skipIf(hasXen)(hasXen ? 'absent devices (skipped: /dev/xen exists here)' : 'absent devices', () => {
  it('GrantMapper.open() throws XenError ENOENT naming the module', () => {
    const err = captureError(() => GrantMapper.open());
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'open', path: '/dev/xen/gntdev', errno: 2 });
    expect(err.message).toBe('/dev/xen/gntdev not found: not a Xen domain, or the xen-gntdev module is not loaded');
  });

  it('GrantAllocator.open() and EventChannelDevice.open() likewise', () => {
    expect(captureError(() => GrantAllocator.open()).message).toBe('/dev/xen/gntalloc not found: not a Xen domain, or the xen-gntalloc module is not loaded');
    expect(captureError(() => EventChannelDevice.open())).toMatchObject({ code: 'ENOENT', path: '/dev/xen/evtchn' });
  });
});

describe('error mapping through a stand-in device (/dev/null)', () => {
  it('an ioctl the device does not know reports ENOTTY with the ioctl name', () => {
    const mapper = GrantMapper.open({ path: '/dev/null' });
    const err = captureError(() => mapper.mapGrantRefs(1, [8]));
    expect(err).toMatchObject({ code: 'ENOTTY', syscall: 'IOCTL_GNTDEV_MAP_GRANT_REF', path: '/dev/null' });
    expect(err.message).toMatch(/register 1 grant/);
    mapper.close();
  });

  it('DMABUF ENOTTY says the kernel lacks CONFIG_XEN_GNTDEV_DMABUF', () => {
    const mapper = GrantMapper.open({ path: '/dev/null' });
    for (const call of [
      () => mapper.dmabufExportFromRefs(1, [8]),
      () => mapper.dmabufImportToRefs(5, 1, 1),
      () => mapper.dmabufImportRelease(5),
    ]) {
      const err = captureError(call);
      expect(err.code).toBe('ENOTTY');
      expect(err.message).toMatch(/CONFIG_XEN_GNTDEV_DMABUF/);
    }
    mapper.close();
  });

  it('DMABUF_EXP_WAIT_RELEASED runs off the event loop and rejects with the same sentence', async () => {
    const mapper = GrantMapper.open({ path: '/dev/null' });
    const wait = mapper.dmabufExportWaitReleased(5, 10);
    mapper.close(); // deferred until the wait ends
    expect(mapper.closed).toBe(false);
    await expect(wait).rejects.toMatchObject({ code: 'ENOTTY', syscall: 'IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED', message: expect.stringMatching(/CONFIG_XEN_GNTDEV_DMABUF/) });
    expect(mapper.closed).toBe(true);
  });

  it('SET_MAX_GRANTS reports "not implemented" (ENOTTY) as false, like libxengnttab', () => {
    const mapper = GrantMapper.open({ path: '/dev/null' });
    expect(mapper.setMaxGrants(128)).toBe(false);
    mapper.close();
  });

  it('calls after close fail with EBADF instead of touching a reused fd', () => {
    const device = EventChannelDevice.open({ path: '/dev/null' });
    device.close();
    device.close();
    expect(captureError(() => device.notify(3))).toMatchObject({ code: 'EBADF' });
  });

  it('gntalloc ENOSPC names the module limit; EACCES says to run as root', async () => {
    const { ioctlContext, openContext } = await import('../../src/native/device-errors.js');
    expect(ioctlContext('gntalloc', '/dev/xen/gntalloc', 'IOCTL_GNTALLOC_ALLOC_GREF', 'grant 4 page(s) to domain 1').explain?.('ENOSPC'))
      .toMatch(/\/sys\/module\/xen_gntalloc\/parameters\/limit/);
    expect(openContext('evtchn', '/dev/xen/evtchn').explain?.('EACCES')).toMatch(/run as root/);
    expect(ioctlContext('gntdev', '/dev/xen/gntdev', 'IOCTL_GNTDEV_MAP_GRANT_REF', 'x').explain?.('EPERM')).toMatch(/run as root/);
  });
});

describe('argument validation happens before the syscall (EINVAL, not ENOTTY)', () => {
  const mapper = GrantMapper.open({ path: '/dev/null' });
  const allocator = GrantAllocator.open({ path: '/dev/null' });
  const evtchn = EventChannelDevice.open({ path: '/dev/null' });

  const invalidCalls: Array<[string, () => unknown]> = [
    ['map: domid too large', () => mapper.mapGrantRefs(0x7ff0, [1])],
    ['map: negative domid', () => mapper.mapGrantRefs(-1, [1])],
    ['map: no refs', () => mapper.mapGrantRefs(1, [])],
    ['map: ref not u32', () => mapper.mapGrantRefs(1, [2 ** 32])],
    ['map: domids/refs length mismatch', () => mapper.mapGrantRefs([1, 2], [1])],
    ['map: too many refs', () => mapper.mapGrantRefs(1, new Array(65_537).fill(1))],
    ['map: writable missing', () => mapper.map(1, [1], {} as { writable: boolean })],
    ['unmap: unaligned index', () => mapper.unmapGrantRefs(100, 1)],
    ['unmap: zero count', () => mapper.unmapGrantRefs(4096, 0)],
    ['offset for vaddr: not an address', () => mapper.getOffsetForVaddr(-5)],
    ['max grants: zero', () => mapper.setMaxGrants(0)],
    ['notify: negative offset', () => mapper.setUnmapNotify(-1, 1, 0)],
    ['copy: no segments', () => mapper.grantCopy([])],
    ['copy: local to local', () => mapper.grantCopy([{ source: { buffer: new Uint8Array(8) }, dest: { buffer: new Uint8Array(8) }, length: 8 }])],
    ['copy: crosses the grant page', () => mapper.grantCopy([{ source: { ref: 1, domid: 1, offset: 4000 }, dest: { buffer: new Uint8Array(200) }, length: 100 }])],
    ['copy: buffer too small', () => mapper.grantCopy([{ source: { ref: 1, domid: 1, offset: 0 }, dest: { buffer: new Uint8Array(10), byteOffset: 5 }, length: 6 }])],
    ['copy: length > page', () => mapper.grantCopy([{ source: { ref: 1, domid: 1, offset: 0 }, dest: { buffer: new Uint8Array(8192) }, length: 4097 }])],
    ['dmabuf export: unknown flag', () => mapper.dmabufExportFromRefs(1, [1], ['uncached' as 'wc'])],
    ['dmabuf import: zero count', () => mapper.dmabufImportToRefs(3, 1, 0)],
    ['alloc: count 0', () => allocator.allocGrefs(1, 0, { writable: true })],
    ['alloc: count over the gntalloc limit', () => allocator.allocGrefs(1, 1025, { writable: true })],
    ['alloc: bad domid', () => allocator.allocGrefs(1.5, 1, { writable: true })],
    ['dealloc: unaligned index', () => allocator.deallocGrefs(1, 1)],
    ['evtchn: bind interdomain port 0', () => evtchn.bindInterdomain(1, 0)],
    ['evtchn: bind unbound bad domid', () => evtchn.bindUnboundPort(0x8000)],
    ['evtchn: notify port 0', () => evtchn.notify(0)],
    ['evtchn: unbind non-integer', () => evtchn.unbind(1.5)],
    ['evtchn: restrict bad domid', () => evtchn.restrictDomid(70000)],
    ['evtchn: restrict to domain 0 (the kernel refuses it)', () => evtchn.restrictDomid(0)],
    ['evtchn: virq not u32', () => evtchn.bindVirq(-1)],
  ];

  it.each(invalidCalls)('%s', (_name, call) => {
    expect(captureError(call).code).toBe('EINVAL');
  });

  it('the same calls with valid arguments reach the kernel (ENOTTY from /dev/null)', () => {
    const validCalls: Array<() => unknown> = [
      () => mapper.mapGrantRefs([1, 2], [3, 4]),
      () => mapper.unmapGrantRefs(4096, 1),
      () => mapper.getOffsetForVaddr(0x1000),
      () => mapper.setUnmapNotify(0, 1, 0),
      () => mapper.grantCopy([{ source: { ref: 1, domid: 1, offset: 96 }, dest: { buffer: new Uint8Array(8192), byteOffset: 4000 }, length: 4000 }]),
      () => allocator.allocGrefs(1, 1024, { writable: false }),
      () => allocator.deallocGrefs(0, 1),
      () => allocator.setUnmapNotify(17, 1, 0),
      () => evtchn.bindVirq(3),
      () => evtchn.bindInterdomain(0x7fef, 1),
      () => evtchn.bindUnboundPort(0),
      () => evtchn.unbind(5),
      () => evtchn.notify(5),
      () => evtchn.reset(),
      () => evtchn.restrictDomid(3),
    ];
    for (const call of validCalls) expect(captureError(call).code).toBe('ENOTTY');
  });
});
