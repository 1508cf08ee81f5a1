/**
 * joinSimulatedHost's on-demand host daemon: started detached by the first domain, gone after it
 * idles, and a daemon killed with SIGKILL leaves nothing that stops the next run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSimLedger } from '@xenipc/sim';
import { DomainProcess } from '../support/domain-process.js';

const dir = mkdtempSync(join(tmpdir(), 'xenipc-sim-auto-'));
const env = { ...process.env, XENIPC_SIM_IDLE_MS: '300' };

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('auto-started simulated host', () => {
  it('starts on first join, survives a SIGKILL (stale socket replaced), exits when idle leaving no files', async () => {
    const first = new DomainProcess(dir, env);
    const { domid } = await first.do('join', { autoStart: true });
    const ledger = await getSimLedger(dir);
    expect(ledger.domains.map((d) => d.domid)).toEqual([domid]);
    expect(ledger.hostPid).not.toBe(process.pid);

    process.kill(ledger.hostPid, 'SIGKILL'); // the daemon crashes: host.sock stays behind
    await until(() => !alive(ledger.hostPid), 2000);
    expect(readdirSync(dir)).toEqual(['host.sock']);
    await first.kill();

    const second = new DomainProcess(dir, env);
    await second.do('join', { autoStart: true });
    const restarted = await getSimLedger(dir);
    expect(restarted.hostPid).not.toBe(ledger.hostPid);
    expect(restarted.domains).toHaveLength(1);
    await second.close();

    await until(() => !alive(restarted.hostPid), 5000); // idles out after XENIPC_SIM_IDLE_MS
    expect(existsSync(join(dir, 'host.sock'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
