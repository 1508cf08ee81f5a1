/**
 * `xenipc proxy connect --from unix:PATH` never deletes or replaces what is at PATH: a regular
 * file, a directory, a live socket or a leftover socket are refused in one line (exit 1, file
 * untouched); the socket it created itself is removed on exit, and only while it is still that
 * socket.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimHostFixture, type SimHostFixture } from './support/sim-host-fixture.js';
import { runXenipc, spawnXenipc, watch } from './support/run-xenipc.js';

/** A socket file nobody listens on: its process was SIGKILLed (a clean close would remove it). */
async function leaveSocketFileBehind(path: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function listenUnix(path: string): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

describe('xenipc proxy connect --from unix:PATH', () => {
  let sim: SimHostFixture;
  beforeAll(async () => {
    sim = await startSimHostFixture();
  });
  afterAll(async () => {
    await sim.close();
  });

  const proxyFrom = (path: string) => ['proxy', 'connect', '1', 'p', '--domid', '2', '--from', `unix:${path}`];

  it('refuses a regular file in one line, exit 1, and leaves it as it was', async () => {
    const path = join(sim.dir, 'precious.txt');
    await writeFile(path, 'do not delete me\n');
    const before = await stat(path);
    const result = await runXenipc(proxyFrom(path), { env: sim.env });
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(`xenipc proxy: ${path} is a file, not a socket: refusing to replace it; choose another path (EEXIST)`);
    expect(await readFile(path, 'utf8')).toBe('do not delete me\n');
    const after = await stat(path);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('refuses a directory, a socket someone listens on, and a leftover socket; each stays', async () => {
    const dir = join(sim.dir, 'a-directory');
    await mkdir(dir);
    const live = join(sim.dir, 'live.sock');
    const server = await listenUnix(live);
    const leftover = join(sim.dir, 'leftover.sock');
    await leaveSocketFileBehind(leftover);
    const leftoverIno = (await stat(leftover)).ino;
    try {
      const cases: Array<[string, RegExp]> = [
        [dir, /is a directory, not a socket: refusing to replace it/],
        [live, /another process is already listening there \(EADDRINUSE\)/],
        [leftover, /is a leftover socket nobody listens on; remove it if it is yours/],
      ];
      for (const [path, message] of cases) {
        const result = await runXenipc(proxyFrom(path), { env: sim.env });
        expect(result.code, path).toBe(1);
        expect(result.stderr).toMatch(message);
      }
      expect((await stat(dir)).isDirectory()).toBe(true);
      expect((await stat(live)).isSocket()).toBe(true);
      expect((await stat(leftover)).ino).toBe(leftoverIno);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await unlink(leftover).catch(() => undefined);
    }
  });

  it('removes its own socket on exit, but not a file that replaced it meanwhile', { timeout: 30_000 }, async () => {
    const path = join(sim.dir, 'front.sock');
    const proxy = watch(spawnXenipc(proxyFrom(path), { env: sim.env }));
    await proxy.stderrSays(`accepting on unix:${path}`);
    expect((await stat(path)).isSocket()).toBe(true);
    // Someone else puts their own file there while the proxy runs.
    await unlink(path);
    await writeFile(path, 'theirs\n');
    proxy.child.kill('SIGTERM');
    expect((await proxy.result).code).toBe(0);
    expect(await readFile(path, 'utf8')).toBe('theirs\n');

    await unlink(path);
    const second = watch(spawnXenipc(proxyFrom(path), { env: sim.env }));
    await second.stderrSays(`accepting on unix:${path}`);
    second.child.kill('SIGINT');
    expect((await second.result).code).toBe(0);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
