/**
 * When the simulated host itself dies, listen and connect say so ("the simulated host went
 * away"), not that the peer domain or process died, and exit 1.
 */
import { describe, expect, it } from 'vitest';
import { startSimHostFixture } from './support/sim-host-fixture.js';
import { spawnXenipc, watch } from './support/run-xenipc.js';

describe('xenipc listen / connect when the simulated host goes away', () => {
  it('both sides exit 1 naming the host', { timeout: 60_000 }, async () => {
    const sim = await startSimHostFixture();
    const listener = watch(spawnXenipc(['listen', '2', 'doomed', '--domid', '1', '-d'], { env: sim.env }));
    await listener.stderrSays('listening for domain 2');
    const sender = watch(spawnXenipc(['connect', '1', 'doomed', '--domid', '2'], { env: sim.env }));
    sender.child.stdin?.write('before the host went\n');
    await listener.stdoutSays('before the host went\n');
    await sender.stderrSays('connected to domain 1');
    await sim.close();
    for (const [side, run] of [['listen', listener], ['connect', sender]] as const) {
      const result = await run.result;
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^xenipc ${side}: the simulated host went away`, 'm'));
      expect(result.stderr).not.toMatch(/peer domain no longer exists|peer process died/);
    }
  });
});
