/**
 * `xenipc doctor` inside a real Xen domain (run by `pnpm test:xen` in the rig's dom0, with the
 * toolstack up): everything is present, so it reports no problem and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { xenipc } from '../peer/stack-commands.js';

const hasXen = existsSync('/dev/xen/evtchn');

describe.skipIf(!hasXen)(`xenipc doctor in a real Xen domain${hasXen ? '' : ' (skipped: /dev/xen absent, not a Xen domain)'}`, () => {
  it('reports every device, module, the gntalloc limit and xenstore present, and exits 0', () => {
    const line = xenipc(['doctor', '--json']);
    const result = spawnSync(line.command, line.args, { encoding: 'utf8', timeout: 120_000 });
    const report = JSON.parse(result.stdout) as {
      problems: number;
      domid: number;
      role: string;
      checks: { name: string; status: string }[];
    };
    const missing = report.checks.filter((c) => c.status === 'missing').map((c) => c.name);
    expect(missing).toEqual([]);
    expect(report.problems).toBe(0);
    expect(result.status).toBe(0);
    expect(report.role).toBe('dom0');
    expect(report.domid).toBe(0);
  });
});
