/**
 * `xenipc listen` and `xenipc connect` as two processes (two domains) on a simulated host.
 * XENIPC_CLI_FILE_BYTES sets the size of the file passed through (default 8 MiB; the 100 MB
 * acceptance run is `XENIPC_CLI_FILE_BYTES=100000000 npx vitest run test/cli/netcat.test.ts`).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimHostFixture, type SimHostFixture } from './support/sim-host-fixture.js';
import { collect, runXenipc, spawnXenipc, watch } from './support/run-xenipc.js';

const FILE_BYTES = Number(process.env['XENIPC_CLI_FILE_BYTES'] ?? 8 * 1024 * 1024);

describe('xenipc listen / connect on a simulated host', () => {
  let sim: SimHostFixture;
  beforeAll(async () => {
    sim = await startSimHostFixture();
  });
  afterAll(async () => {
    await sim.close();
  });

  it(`passes a ${FILE_BYTES}-byte file from connect to listen byte-exact`, { timeout: 120_000 }, async () => {
    const file = randomBytes(FILE_BYTES);
    const listener = spawnXenipc(['listen', '2', 'file-in', '--domid', '1', '-d'], { env: sim.env });
    const received = collect(listener);
    const sender = await runXenipc(['connect', '1', 'file-in', '--domid', '2', '--timeout', '20000'], { env: sim.env, input: file });
    const result = await received;
    expect(sender.stderr).toContain('connected to domain 1');
    expect(sender.code).toBe(0);
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(file.length);
    expect(result.stdout.equals(file)).toBe(true);
  });

  it('passes a file from listen to connect byte-exact (the other direction)', { timeout: 60_000 }, async () => {
    const file = randomBytes(Math.min(FILE_BYTES, 2 * 1024 * 1024));
    const listener = spawnXenipc(['listen', '4', 'file-out', '--domid', '3', '--ring-size', '4096'], { env: sim.env });
    const sent = collect(listener);
    listener.stdin?.end(file);
    const receiver = await runXenipc(['connect', '3', 'file-out', '--domid', '4', '-d', '--timeout', '20000'], { env: sim.env });
    expect(receiver.code).toBe(0);
    expect(receiver.stdout.equals(file)).toBe(true);
    expect((await sent).code).toBe(0);
  });

  it('relays both ways at once: what connect sends comes back through a listener that echoes', { timeout: 30_000 }, async () => {
    // The listener's stdout feeds its own stdin (a shell's `xenipc listen ... | cat` loop).
    const listener = watch(spawnXenipc(['listen', '6', 'echo', '--domid', '5'], { env: sim.env }), { stdout: false });
    listener.child.stdout?.pipe(listener.child.stdin as NodeJS.WritableStream);
    await listener.stderrSays('listening for domain 6');
    const client = watch(spawnXenipc(['connect', '5', 'echo', '--domid', '6'], { env: sim.env }));
    const message = 'ping over a channel\n';
    client.child.stdin?.write(message);
    // Wait for the echo before closing: vchan has no half-close, EOF closes the channel.
    await client.stdoutSays(message);
    client.child.stdin?.end();
    const result = await client.result;
    expect(result.stdout.toString()).toBe(message);
    expect(result.code).toBe(0);
    expect((await listener.result).code).toBe(0);
  });

  it('exits 1 with a clear message when nobody listens', async () => {
    const result = await runXenipc(['connect', '9', 'nobody', '--domid', '8', '--timeout', '300'], { env: sim.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/xenipc connect: no vchan server appeared at \/local\/domain\/9\/data\/vchan\/8\/nobody within 300 ms/);
  });

  it('exits 1 when the peer is killed mid-transfer', { timeout: 30_000 }, async () => {
    const listener = watch(spawnXenipc(['listen', '12', 'crash', '--domid', '11', '-d'], { env: sim.env }));
    await listener.stderrSays('listening for domain 12');
    const sender = watch(spawnXenipc(['connect', '11', 'crash', '--domid', '12'], { env: sim.env }));
    // Keep the channel busy (stdin stays open), then kill the sender without letting it close.
    sender.child.stdin?.write(randomBytes(256 * 1024));
    await sender.stderrSays('connected to domain 11');
    await listener.stderrSays('connected to domain 12');
    sender.child.kill('SIGKILL');
    const { code, stderr } = await listener.result;
    expect(code).toBe(1);
    expect(stderr).toContain('xenipc listen: the peer process died');
  });

  it('exits 2 on a bad command line, before touching any backend', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['listen', '1'], /expected <domid> <port>/],
      [['listen', 'one', 'p'], /<domid> must be an integer/],
      [['listen', '1', 'bad/port'], /<port> must be 1-64 characters/],
      [['listen', '1', 'p', '--ring-size', '3000'], /power of two/],
      [['connect', '1', 'p', '--backend', 'kvm'], /--backend must be sim or xen/],
    ];
    for (const [args, message] of cases) {
      const result = await runXenipc(args, { env: sim.env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });

  it('explains how to get a simulated host when neither Xen nor XENIPC_SIM_DIR is there', async () => {
    const env = { ...process.env };
    delete env['XENIPC_SIM_DIR'];
    const result = await runXenipc(['listen', '1', 'p', '--backend', 'sim'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('xenipc sim');
  });
});
