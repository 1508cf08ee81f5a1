/** `xenipc sim` in the foreground: other processes join it through the directory it prints. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runXenipc, spawnXenipc, watch } from './support/run-xenipc.js';

describe('xenipc sim', () => {
  it('prints its directory, hosts a listen/connect pair, and removes its temp dir on SIGINT', { timeout: 30_000 }, async () => {
    const sim = watch(spawnXenipc(['sim']));
    await sim.stderrSays('Ctrl-C stops the host');
    await sim.stdoutSays('\n');
    const dir = sim.printed('stdout').trim();
    expect(sim.printed('stderr')).toContain(`export XENIPC_SIM_DIR=${dir}`);
    expect(existsSync(dir)).toBe(true);
    const env = { ...process.env, XENIPC_SIM_DIR: dir };

    const listener = watch(spawnXenipc(['listen', '2', 'hello', '--domid', '1', '-d'], { env }));
    await listener.stderrSays('listening for domain 2');
    const sender = await runXenipc(['connect', '1', 'hello', '--domid', '2'], { env, input: 'hello across terminals\n' });
    expect(sender.code).toBe(0);
    const received = await listener.result;
    expect(received.code, received.stderr).toBe(0);
    expect(received.stdout.toString()).toBe('hello across terminals\n');

    sim.child.kill('SIGINT');
    const result = await sim.result;
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${dir}\n`);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a second host on the same directory', { timeout: 30_000 }, async () => {
    const first = watch(spawnXenipc(['sim']));
    await first.stdoutSays('\n');
    const dir = first.printed('stdout').trim();
    const second = await runXenipc(['sim', '--dir', dir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('a simulated host is already running');
    first.child.kill('SIGINT');
    expect((await first.result).code).toBe(0);
  });
});
