/**
 * @xenipc/rpc between two processes, the same scenarios over each carrier: a Unix socket
 * (createStreamPeer) and a vchan MessageChannel between two domains of the simulated Xen host
 * (ChannelTransport). Pipelining, remote errors, timeouts, aborts, and SIGKILL of the peer with
 * calls in flight.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { XenBackend } from '@xenipc/core';
import { getSimLedger, joinSimulatedHost, type SimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient } from '@xenipc/channel';
import { ChannelTransport, ConnectionClosedError, RemoteError, RpcPeer, RpcTimeoutError, createStreamPeer } from '@xenipc/rpc';
import { spawnTs } from '../support/spawn-domain.js';

/** One way to put an RPC server in a child process and connect to it. */
interface Carrier {
  name: string;
  setUp(): Promise<void>;
  /** After each test: what this side must have released by now. */
  checkReleased(): Promise<void>;
  tearDown(): Promise<void>;
  startServer(): Promise<{ child: ChildProcess; peer: RpcPeer }>;
  /** ConnectionClosedError reasons a SIGKILL of the server may give. */
  killReasons: string[];
}

const children: ChildProcess[] = [];

/** Spawns a fixture; resolves with its first IPC message (or rejects with its stderr if it exits first). */
async function spawnServer<T>(fixture: string, args: string[]): Promise<{ child: ChildProcess; hello: T }> {
  const child = spawnTs(new URL(`./fixtures/${fixture}`, import.meta.url), args);
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const hello = await new Promise<T>((resolve, reject) => {
    child.once('message', (m: T) => resolve(m));
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  return { child, hello };
}

function unixSocket(): Carrier {
  const dirs: string[] = [];
  return {
    name: 'a Unix socket',
    setUp: async () => {},
    checkReleased: async () => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
    tearDown: async () => {},
    async startServer() {
      const dir = mkdtempSync(join(tmpdir(), 'xenipc-rpc-mp-'));
      dirs.push(dir);
      const path = join(dir, 'server.sock');
      const { child } = await spawnServer('rpc-server.fixture.ts', [path]);
      const socket = connect(path);
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      return { child, peer: createStreamPeer(socket) };
    },
    killReasons: ['peer-closed', 'transport-error'],
  };
}

function simulatedChannel(): Carrier {
  let dir = '';
  let host: SimulatedHost | undefined;
  let backend: XenBackend | undefined;
  let nextPort = 1;
  return {
    name: 'a vchan MessageChannel (simulated host)',
    async setUp() {
      dir = mkdtempSync(join(tmpdir(), 'xenipc-rpc-sim-'));
      host = await startSimulatedHost({ dir });
      backend = await joinSimulatedHost({ dir, autoStart: false });
    },
    async checkReleased() {
      // every channel this side used was released (grants, mappings, ports) once its peer closed
      const deadline = Date.now() + 3000;
      let live: unknown[] = [];
      do {
        const ledger = await getSimLedger(dir);
        live = ledger.domains.filter((d) => d.domid === backend?.domid && d.grants + d.mappings + d.ports > 0);
        if (live.length === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      } while (Date.now() < deadline);
      expect(live).toEqual([]);
    },
    async tearDown() {
      await backend?.close();
      await host?.close();
      rmSync(dir, { recursive: true, force: true });
    },
    async startServer() {
      const self = backend as XenBackend;
      const port = `rpc-${nextPort++}`;
      const { child, hello } = await spawnServer<{ domid: number }>('rpc-channel-server.fixture.ts', [dir, String(self.domid), port]);
      const endpoint = await VchanClient.connect(self, { peer: hello.domid, port, timeoutMs: 20_000 });
      return { child, peer: new RpcPeer(new ChannelTransport(new MessageChannel(endpoint))) };
    },
    killReasons: ['peer-crashed'],
  };
}

describe.each([unixSocket(), simulatedChannel()])('rpc between two processes over $name', (carrier) => {
  beforeAll(() => carrier.setUp(), 60_000);
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await carrier.checkReleased();
  });
  afterAll(() => carrier.tearDown());

  it('returns correct results for 100,000 pipelined calls', async () => {
    const { peer } = await carrier.startServer();
    await peer.call('add', 0, 0); // warm up
    const count = 100_000;
    const started = performance.now();
    const calls: Promise<number>[] = new Array(count);
    for (let i = 0; i < count; i++) calls[i] = peer.call<number>('add', i, 1_000_000);
    const results = await Promise.all(calls);
    const seconds = (performance.now() - started) / 1000;
    for (let i = 0; i < count; i++) if (results[i] !== i + 1_000_000) throw new Error(`call ${i} returned ${results[i]}`);
    console.log(`[rpc] ${carrier.name}: ${count} pipelined calls in ${seconds.toFixed(3)} s = ${Math.round(count / seconds)} calls/s`);
    expect(peer.stats.callsSucceeded).toBe(count + 1);
    peer.close();
  }, 60_000);

  it('rejects with RemoteError carrying the thrown name and message', async () => {
    const { peer } = await carrier.startServer();
    const error = await peer.call('fail', 'QuotaExceeded', 'too many widgets').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ name: 'QuotaExceeded', message: 'too many widgets' });
    await expect(peer.call('nope')).rejects.toMatchObject({ name: 'MethodNotFound' });
    await expect(peer.call('echo', { deep: [1, 'two', null] })).resolves.toEqual({ deep: [1, 'two', null] });
    peer.close();
  });

  it('times out and aborts locally; late responses are dropped and counted', async () => {
    const { peer } = await carrier.startServer();
    await expect(peer.callWith({ timeoutMs: 30 }, 'sleep', 150, 'late')).rejects.toBeInstanceOf(RpcTimeoutError);
    const controller = new AbortController();
    const aborted = peer.callWith({ signal: controller.signal }, 'sleep', 100, 'late');
    setTimeout(() => controller.abort(new Error('user gave up')), 10);
    await expect(aborted).rejects.toThrow('user gave up');
    await new Promise((r) => setTimeout(r, 250));
    expect(peer.stats.lateResponses).toBe(2);
    expect(peer.stats.unknownResponses).toBe(0);
    await expect(peer.call('add', 1, 2)).resolves.toBe(3);
    peer.close();
  });

  it('rejects 1,000 in-flight calls within 100 ms of SIGKILL of the peer', async () => {
    const { child, peer } = await carrier.startServer();
    await expect(peer.call('pid')).resolves.toBe(child.pid);
    const calls = Array.from({ length: 1000 }, () => peer.call('never').then(
      () => { throw new Error('resolved'); },
      (error: unknown) => ({ error, at: performance.now() }),
    ));
    await new Promise((r) => setTimeout(r, 50)); // let the server receive them
    expect(peer.pendingCalls).toBe(1000);
    const killedAt = performance.now();
    child.kill('SIGKILL');
    const outcomes = await Promise.all(calls);
    const latest = Math.max(...outcomes.map((o) => o.at)) - killedAt;
    console.log(`[rpc] ${carrier.name}: 1000 pending calls rejected ${latest.toFixed(1)} ms after SIGKILL`);
    for (const { error } of outcomes) {
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect(carrier.killReasons).toContain((error as ConnectionClosedError).reason);
    }
    expect(latest).toBeLessThan(100);
  });
});
