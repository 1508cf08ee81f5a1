import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeXenDomain, type FakeXenDomain } from './support/fake-xen-domain.js';
import { runXenipc } from './support/run-xenipc.js';

describe('xenipc doctor', () => {
  let domain: FakeXenDomain | undefined;
  afterEach(async () => {
    await domain?.close();
    domain = undefined;
  });

  it('exits 0 on a complete (fake) Xen domU and reports the domid xenstore gave', async () => {
    domain = await createFakeXenDomain({ xenstore: 7 });
    const result = await runXenipc(['doctor', '--json', '--root', domain.root]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.toString()) as { problems: number; domid: number; role: string; checks: { status: string }[] };
    expect(report.problems).toBe(0);
    expect(report.domid).toBe(7);
    expect(report.role).toBe('domU');
    expect(report.checks.map((c) => c.status)).not.toContain('missing');
    expect(domain.xenstoreRequests()).toBe(1);
  });

  it('reads the root from XENIPC_HOST_ROOT and prints a human report', async () => {
    domain = await createFakeXenDomain({ xenstore: 3 });
    const result = await runXenipc(['doctor'], { env: { ...process.env, XENIPC_HOST_ROOT: domain.root } });
    expect(result.code).toBe(0);
    const text = result.stdout.toString();
    expect(text).toMatch(/ok\s+\/dev\/xen\/gntalloc\s+opened read-write/);
    expect(text).toMatch(/ok\s+xenstore\s+answers on .*xenbus; our domid is 3/);
    expect(text).toMatch(/1024 pages/);
  });

  it('exits 1 with the plain explanation on an empty root (not Xen at all)', async () => {
    domain = await createFakeXenDomain();
    const result = await runXenipc(['doctor', '--root', `${domain.root}/nothing-here`]);
    expect(result.code).toBe(1);
    expect(result.stdout.toString()).toMatch(/MISSING\s+Xen domain/);
    expect(result.stdout.toString()).toContain('This machine is not a Xen domain');
    expect(result.stdout.toString()).toContain('xenipc sim');
  });

  it('names the fix for a missing driver and exits 1', async () => {
    domain = await createFakeXenDomain({ withoutGntalloc: true });
    const result = await runXenipc(['doctor', '--root', domain.root]);
    expect(result.code).toBe(1);
    const text = result.stdout.toString();
    expect(text).toMatch(/MISSING\s+module xen_gntalloc/);
    expect(text).toMatch(/MISSING\s+\/dev\/xen\/gntalloc\s+does not exist/);
    expect(text).toContain('fix: sudo modprobe xen-gntalloc');
    expect(text).toContain('2 things missing');
  });

  it('reports a xenstore that does not answer within --timeout', async () => {
    domain = await createFakeXenDomain({ xenstore: 'silent' });
    const started = Date.now();
    const result = await runXenipc(['doctor', '--timeout', '300', '--root', domain.root]);
    expect(result.code).toBe(1);
    expect(result.stdout.toString()).toMatch(/MISSING\s+xenstore\s+.*no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports a missing xenstore endpoint', async () => {
    domain = await createFakeXenDomain({ xenstore: 'absent' });
    const result = await runXenipc(['doctor', '--root', domain.root]);
    expect(result.code).toBe(1);
    expect(result.stdout.toString()).toMatch(/MISSING\s+xenstore\s+no xenstore endpoint exists/);
  });

  it('warns about a low gntalloc limit without failing', async () => {
    domain = await createFakeXenDomain({ gntallocLimit: 64 });
    const result = await runXenipc(['doctor', '--root', domain.root]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(/warning\s+gntalloc limit\s+64 pages/);
  });

  const isXen = existsSync('/proc/xen') || existsSync('/sys/hypervisor/type');
  it.skipIf(isXen)('exits non-zero on this real machine, which is not a Xen domain (skipped when run inside Xen)', async () => {
    const result = await runXenipc(['doctor'], { env: { ...process.env, XENIPC_HOST_ROOT: '' } });
    expect(result.code).toBe(1);
    expect(result.stdout.toString()).toContain('This machine is not a Xen domain');
  });

  it('rejects bad arguments with exit code 2 and a usage hint', async () => {
    const result = await runXenipc(['doctor', '--timeout', 'soon']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--timeout must be an integer');
    expect(result.stderr).toContain('xenipc doctor --help');
  });
});
