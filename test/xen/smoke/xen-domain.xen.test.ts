/**
 * Smoke test of the rig itself: this process runs as root in a real Xen dom0, the Xen devices
 * open, xenstored answers, and the project's native addon loads here.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const inXen = existsSync('/proc/xen/capabilities');

describe.skipIf(!inXen)('the rig: a real Xen dom0', () => {
  it('is the control domain and runs as root', () => {
    expect(readFileSync('/proc/xen/capabilities', 'utf8')).toMatch(/control_d/);
    expect(process.getuid?.()).toBe(0);
  });

  it.each(['evtchn', 'gntdev', 'gntalloc', 'privcmd', 'xenbus'])('opens /dev/xen/%s read-write', (device) => {
    const fd = openSync(`/dev/xen/${device}`, 'r+');
    expect(fd).toBeGreaterThan(2);
    closeSync(fd);
  });

  it('has xenstored running (dom0 is named Domain-0)', () => {
    expect(execFileSync('xenstore-read', ['/local/domain/0/name'], { encoding: 'utf8' }).trim()).toBe('Domain-0');
  });

  it('loads the native addon built on the host', () => {
    // From the project dir (the rig runs this file compiled, from test/xen/.compiled/...).
    const addon: unknown = createRequire(join(process.cwd(), 'package.json'))('./build/Release/xenipc.node');
    expect(typeof addon).toBe('object');
  });
});
