/**
 * `xenipc proxy` round trip: a client on a Unix socket -> proxy connect (domain 2) -> channel ->
 * proxy listen (domain 1) -> an echo server on another Unix socket, and back.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimHostFixture, type SimHostFixture } from './support/sim-host-fixture.js';
import { runXenipc, spawnXenipc, watch, type WatchedXenipc } from './support/run-xenipc.js';

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Send `payload` through the socket at `path` (or TCP port), read as many bytes back, then close. */
function roundTrip(path: string | number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = typeof path === 'number' ? connect(path, '127.0.0.1') : connect(path);
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) {
        socket.end();
        resolve(Buffer.concat(chunks));
      }
    });
    socket.on('close', () => reject(new Error(`closed after ${received} of ${payload.length} bytes`)));
    socket.write(payload);
  });
}

describe('xenipc proxy', () => {
  let sim: SimHostFixture;
  let echo: Server;
  let echoPath: string;
  let frontPath: string;
  let listenSide: WatchedXenipc;
  let connectSide: WatchedXenipc;

  beforeAll(async () => {
    sim = await startSimHostFixture();
    echoPath = join(sim.dir, 'echo.sock');
    frontPath = join(sim.dir, 'front.sock');
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(echoPath, resolve));
    listenSide = watch(spawnXenipc(['proxy', 'listen', '2', 'echo', '--domid', '1', '--to', `unix:${echoPath}`], { env: sim.env }));
    connectSide = watch(spawnXenipc(['proxy', 'connect', '1', 'echo', '--domid', '2', '--from', `unix:${frontPath}`], { env: sim.env }));
    await listenSide.stderrSays('listening for domain 2');
    await connectSide.stderrSays(`accepting on unix:${frontPath}`);
  });

  afterAll(async () => {
    listenSide?.child.kill('SIGKILL');
    connectSide?.child.kill('SIGKILL');
    await new Promise((resolve) => echo?.close(resolve));
    await sim?.close();
  });

  it('carries a megabyte to the echo server and back, byte-exact', { timeout: 30_000 }, async () => {
    const payload = randomBytes(1024 * 1024);
    const echoed = await roundTrip(frontPath, payload);
    expect(echoed.length).toBe(payload.length);
    expect(echoed.equals(payload)).toBe(true);
  });

  it('serves the next client after the first one left', { timeout: 30_000 }, async () => {
    await listenSide.stderrSays('connection finished');
    for (let i = 0; i < 3; i++) {
      const payload = Buffer.from(`client ${i}: ${'x'.repeat(1000 * i)}`);
      expect((await roundTrip(frontPath, payload)).equals(payload)).toBe(true);
    }
  });

  it('stops cleanly on SIGINT: exit 0 and the Unix socket file removed', { timeout: 30_000 }, async () => {
    connectSide.child.kill('SIGINT');
    listenSide.child.kill('SIGINT');
    expect((await connectSide.result).code).toBe(0);
    expect((await listenSide.result).code).toBe(0);
    expect(existsSync(frontPath)).toBe(false);
  });

  it('rejects a malformed address or mode with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['proxy', 'listen', '2', 'p', '--to', '/no/scheme'], /must start with unix: or tcp:/],
      [['proxy', 'listen', '2', 'p', '--to', 'tcp:host:99999'], /port from 1 to 65535/],
      [['proxy', 'connect', '2', 'p', '--to', 'unix:/x'], /proxy connect needs --from/],
      [['proxy', 'serve', '2', 'p'], /listen or connect/],
    ];
    for (const [args, message] of cases) {
      const result = await runXenipc(args, { env: sim.env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});

describe('xenipc proxy over TCP', () => {
  it('bridges tcp:port -> channel -> tcp:host:port', { timeout: 30_000 }, async () => {
    const sim = await startSimHostFixture();
    const echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const echoPort = (echo.address() as AddressInfo).port;
    const frontPort = await freePort();
    const listenSide = watch(spawnXenipc(['proxy', 'listen', '4', 'tcp-echo', '--domid', '3', '--once', '--to', `tcp:127.0.0.1:${echoPort}`], { env: sim.env }));
    const connectSide = watch(spawnXenipc(['proxy', 'connect', '3', 'tcp-echo', '--domid', '4', '--from', `tcp:${frontPort}`], { env: sim.env }));
    try {
      await listenSide.stderrSays('listening for domain 4');
      await connectSide.stderrSays(`accepting on tcp:127.0.0.1:${frontPort}`);
      const payload = randomBytes(200_000);
      expect((await roundTrip(frontPort, payload)).equals(payload)).toBe(true);
      // --once: the listening side is done after that connection.
      expect((await listenSide.result).code).toBe(0);
    } finally {
      listenSide.child.kill('SIGKILL');
      connectSide.child.kill('SIGKILL');
      await new Promise((resolve) => echo.close(resolve));
      await sim.close();
    }
  });
});
