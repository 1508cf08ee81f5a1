/**
 * EventChannelDevice's delivery bookkeeping without Xen: a FIFO stands in for /dev/xen/evtchn
 * (it can be opened read-write and polled; nothing is written to it, so no event arrives).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventChannelDevice, XenError } from '@xenipc/core';

function fifo(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'xenipc-evtchn-')), 'evtchn');
  execFileSync('mkfifo', [path]);
  return path;
}

describe('EventChannelDevice delivery state', () => {
  it('keeps the process alive only while some port has a listener', () => {
    const device = EventChannelDevice.open({ path: fifo() });
    expect(device.keepsProcessAlive).toBe(false);
    device.listen(5, { event: () => undefined });
    device.listen(6, { event: () => undefined });
    expect(device.listenerCount).toBe(2);
    expect(device.keepsProcessAlive).toBe(true);
    device.unlisten(5);
    expect(device.keepsProcessAlive).toBe(true);
    device.unlisten(6);
    device.unlisten(6);
    expect(device.listenerCount).toBe(0);
    expect(device.keepsProcessAlive).toBe(false);
    device.listen(7, { event: () => undefined });
    expect(device.keepsProcessAlive).toBe(true);
    device.close();
    expect(device.keepsProcessAlive).toBe(false);
    expect(device.listenerCount).toBe(0);
  });

  it('rejects a listener for an invalid port', () => {
    const device = EventChannelDevice.open({ path: fifo() });
    expect(() => device.listen(0, { event: () => undefined })).toThrow(XenError);
    device.close();
  });

  it('close() stops polling, so a device reopened (likely on the same fd number) polls again', () => {
    const path = fifo();
    const device = EventChannelDevice.open({ path });
    device.listen(1, { event: () => undefined });
    device.close();
    // After close the poller is gone: a new device (likely the same fd number) polls fine.
    const again = EventChannelDevice.open({ path });
    again.listen(1, { event: () => undefined });
    expect(again.keepsProcessAlive).toBe(true);
    again.close();
  });
});
