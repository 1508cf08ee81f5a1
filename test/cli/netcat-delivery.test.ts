/**
 * `xenipc listen` / `connect` never report delivery that did not happen: a sender exits 0 only if
 * the peer consumed every byte of its stdin; a receiver that closes early or is interrupted
 * makes the sender exit 1. Interrupted commands exit 128 + the signal (130 SIGINT, 143 SIGTERM).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimHostFixture, type SimHostFixture } from './support/sim-host-fixture.js';
import { runXenipc, spawnXenipc, watch } from './support/run-xenipc.js';

describe('xenipc listen / connect: delivery', () => {
  let sim: SimHostFixture;
  beforeAll(async () => {
    sim = await startSimHostFixture();
  });
  afterAll(async () => {
    await sim.close();
  });

  it('a sender reports what was delivered and exits 0 when the receiver read it all', { timeout: 60_000 }, async () => {
    const data = randomBytes(1024 * 1024 + 17);
    const receiver = watch(spawnXenipc(['listen', '2', 'ok', '--domid', '1', '-d'], { env: sim.env }));
    await receiver.stderrSays('listening for domain 2');
    const sender = await runXenipc(['connect', '1', 'ok', '--domid', '2'], { env: sim.env, input: data });
    const received = await receiver.result;
    expect(sender.code).toBe(0);
    expect(sender.stderr).toContain('waiting up to 5000 ms for domain 1 to listen on ok');
    expect(sender.stderr).toContain('closed the channel; sent 1.0 MiB (all read by domain 1)');
    expect(received.code).toBe(0);
    expect(received.stdout.equals(data)).toBe(true);
    expect(received.stderr).toContain('domain 2 closed the channel; received 1.0 MiB');
  });

  it('-q: a successful transfer prints nothing on stderr; a failure still prints its one line', { timeout: 60_000 }, async () => {
    const receiver = watch(spawnXenipc(['listen', '12', 'quiet', '--domid', '11', '-d'], { env: sim.env }));
    await receiver.stderrSays('listening for domain 12');
    const quiet = await runXenipc(['connect', '11', 'quiet', '--domid', '12', '-q'], { env: sim.env, input: 'shh\n' });
    expect((await receiver.result).stdout.toString()).toBe('shh\n');
    expect(quiet).toMatchObject({ code: 0, stderr: '' });
    const failed = await runXenipc(['connect', '11', 'quiet', '--domid', '12', '-q', '--timeout', '0'], { env: sim.env, input: 'shh\n' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^xenipc connect: no vchan server appeared at \S+ within 0 ms[^\n]*\n$/);
  });

  it('a listener without -d whose stdin is empty closes at once: the sender exits 1, naming what was not read', { timeout: 60_000 }, async () => {
    // The listener's stdin is at EOF before anyone connects, so it closes right after the
    // connection, having read at most what already sat in its ring (64 KiB): 4 MiB cannot fit.
    const data = randomBytes(4 * 1024 * 1024);
    const listener = spawnXenipc(['listen', '4', 'early', '--domid', '3'], { env: sim.env });
    const listening = watch(listener);
    listener.stdin?.end();
    await listening.stderrSays('listening for domain 4');
    const sender = await runXenipc(['connect', '3', 'early', '--domid', '4'], { env: sim.env, input: data });
    const closed = await listening.result;
    expect(closed.code).toBe(0); // it had nothing to send, and sent it
    expect(closed.stdout.length).toBeLessThan(data.length);
    expect(sender.code).toBe(1);
    const report = /^xenipc connect: domain 3 closed the channel early: domain 3 read (\d+) bytes of stdin \(.*\); the rest was not delivered \(EUNDELIVERED\)$/m.exec(sender.stderr);
    expect(report, sender.stderr).not.toBeNull();
    // What the sender counts as read is exactly what the listener printed.
    expect(Number(report?.[1])).toBe(closed.stdout.length);
    expect(closed.stdout.equals(data.subarray(0, closed.stdout.length))).toBe(true);
  });

  it('a sender exits 0 only if the listener really printed what it sent (either order of close and send)', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const port = `hello-${round}`;
      const listener = spawnXenipc(['listen', '6', port, '--domid', '5'], { env: sim.env });
      const listening = watch(listener);
      listener.stdin?.end(); // `xenipc listen` without -d and nothing to say
      await listening.stderrSays('listening for domain 6');
      const sender = await runXenipc(['connect', '5', port, '--domid', '6'], { env: sim.env, input: 'hello\n' });
      const printed = (await listening.result).stdout.toString();
      expect([0, 1]).toContain(sender.code);
      expect(sender.code === 0, `sender exit ${sender.code}, listener printed ${JSON.stringify(printed)}; ${sender.stderr}`).toBe(printed === 'hello\n');
    }
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('a receiver stopped by %s exits %i, and its sender exits 1', { timeout: 60_000 }, async (signal, exitCode) => {
    const port = `stop-${signal}`;
    // The test never reads the receiver's stdout: it stops reading the ring once its output
    // is full, so most of the 8 MiB is still unread when the signal comes.
    const receiver = watch(spawnXenipc(['listen', '8', port, '--domid', '7', '-d'], { env: sim.env }), { stdout: false });
    await receiver.stderrSays('listening for domain 8');
    const sender = watch(spawnXenipc(['connect', '7', port, '--domid', '8'], { env: sim.env }));
    sender.child.stdin?.end(randomBytes(8 * 1024 * 1024));
    await receiver.stderrSays('connected to domain 8');
    receiver.child.kill(signal);
    const stopped = await receiver.result;
    expect(stopped.code).toBe(exitCode);
    expect(stopped.stderr).toContain('xenipc listen: interrupted; received');
    const result = await sender.result;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^xenipc connect: domain 7 closed the channel early: domain 7 read \d+ bytes of stdin \(.*\); the rest was not delivered/m);
  });

  it('a sender stopped by SIGTERM while waiting for its listener exits 143', { timeout: 30_000 }, async () => {
    const sender = watch(spawnXenipc(['connect', '10', 'nobody-yet', '--domid', '9', '--timeout', '60000'], { env: sim.env }));
    await sender.stderrSays('waiting up to 60000 ms for domain 10 to listen on nobody-yet');
    sender.child.kill('SIGTERM');
    expect((await sender.result).code).toBe(143);
  });
});
