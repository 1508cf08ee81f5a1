/**
 * The real backend without Xen: what openXenBackend() does on this machine, domid detection,
 * and (with /dev/null standing in for the devices) that every method validates its arguments
 * and reports kernel failures as XenError.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openXenBackend, readOwnDomid, XenError, type XenStore } from '@xenipc/core';

const hasXen = existsSync('/dev/xen');

function stubXenStore(domid: string): XenStore & { closed: boolean } {
  const stub = { closed: false, read: async (path: string) => (path === 'domid' ? domid : Promise.reject(new Error(path))), close() { stub.closed = true; } };
  return stub as unknown as XenStore & { closed: boolean };
}

function capabilities(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'xenipc-caps-'));
  writeFileSync(join(dir, 'capabilities'), text);
  return join(dir, 'capabilities');
}

describe.skipIf(hasXen)(hasXen ? 'openXenBackend on a machine without Xen (skipped: /dev/xen exists)' : 'openXenBackend on a machine without Xen', () => {
  it('rejects with XenError ENOENT naming the evtchn device, without hanging', async () => {
    const started = Date.now();
    const err = await openXenBackend().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XenError);
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'open', path: '/dev/xen/evtchn' });
    expect((err as XenError).message).toBe('/dev/xen/evtchn not found: not a Xen domain, or the xen-evtchn module is not loaded');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('own domid', () => {
  it('is 0 in the control domain, without asking xenstore', async () => {
    expect(await readOwnDomid(stubXenStore('garbage'), capabilities('control_d\n'))).toBe(0);
  });
  it('is xenstore "domid" in a guest (and when capabilities are unreadable)', async () => {
    expect(await readOwnDomid(stubXenStore('7'), capabilities(''))).toBe(7);
    expect(await readOwnDomid(stubXenStore('12'), '/nonexistent/capabilities')).toBe(12);
  });
  it('rejects a value that is not a domid', async () => {
    for (const bad of ['-1', 'x', '32752', '']) {
      await expect(readOwnDomid(stubXenStore(bad), '/nonexistent')).rejects.toMatchObject({ code: 'EINVAL' });
    }
  });
});

describe('backend over stand-in devices (/dev/null: every ioctl gives ENOTTY)', () => {
  const devices = { evtchn: '/dev/null', gntdev: '/dev/null', gntalloc: '/dev/null' };

  it('detects the domid through the injected xenstore and does not close it', async () => {
    const xenstore = stubXenStore('5');
    const backend = await openXenBackend({ devices, xenstore, capabilitiesPath: '/nonexistent' });
    expect(backend.domid).toBe(5);
    expect(backend.xenstore).toBe(xenstore);
    await backend.close();
    expect(xenstore.closed).toBe(false);
  });

  it('validates before the syscall (EINVAL), and reports kernel failures as XenError (ENOTTY)', async () => {
    const backend = await openXenBackend({ devices, xenstore: stubXenStore('5'), domid: 5 });
    await expect(backend.share(0x7ff0, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(backend.share(1, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(backend.share(1, 1025)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(backend.map(1, [])).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(backend.map(1, [-3])).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(backend.bindUnbound(-1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(backend.bindInterdomain(1, 0)).rejects.toMatchObject({ code: 'EINVAL' });

    await expect(backend.share(1, 2)).rejects.toMatchObject({ code: 'ENOTTY', syscall: 'IOCTL_GNTALLOC_ALLOC_GREF' });
    await expect(backend.map(1, [8, 9])).rejects.toMatchObject({ code: 'ENOTTY', syscall: 'IOCTL_GNTDEV_MAP_GRANT_REF' });
    await expect(backend.bindUnbound(1)).rejects.toMatchObject({ code: 'ENOTTY', syscall: 'IOCTL_EVTCHN_BIND_UNBOUND_PORT' });
    await expect(backend.bindInterdomain(1, 4)).rejects.toMatchObject({ code: 'ENOTTY', syscall: 'IOCTL_EVTCHN_BIND_INTERDOMAIN' });
    await backend.close();
    await backend.close();
    await expect(backend.bindUnbound(1)).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('a missing grant device is reported when first needed, with its sentence', async () => {
    const backend = await openXenBackend({ devices: { evtchn: '/dev/null', gntalloc: '/nonexistent/gntalloc' }, xenstore: stubXenStore('5'), domid: 5 });
    const err = await backend.share(1, 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENOENT', path: '/nonexistent/gntalloc' });
    expect((err as XenError).message).toMatch(/xen-gntalloc module is not loaded/);
    await backend.close();
  });
});
