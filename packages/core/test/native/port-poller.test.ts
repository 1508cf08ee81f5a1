/**
 * The event-channel delivery path without Xen: PendingPortPoller on one end of a socket pair
 * behaves like on /dev/xen/evtchn (read u32 ports, write them back to unmask). The test writes
 * "pending ports" into the other end and reads the unmask echo from it.
 */
import { closeSync, readSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PendingPortPoller, XenError } from '@xenipc/core';
import { loadAddon } from '@xenipc/core/backend-kit';
import { spawnTs } from '../../../../test/support/spawn-domain.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function socketPair(): [number, number] {
  const [a, b] = loadAddon().socketPair();
  cleanups.push(() => { closeSync(a); closeSync(b); });
  return [a, b];
}

function ports(...values: number[]): Buffer {
  return Buffer.from(Uint32Array.from(values).buffer);
}

function readEcho(fd: number): number[] {
  const buffer = Buffer.alloc(4096);
  let n = 0;
  try {
    n = readSync(fd, buffer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
  }
  return Array.from(new Uint32Array(buffer.buffer, 0, n / 4));
}

function nextTurn(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('PendingPortPoller', () => {
  it('delivers pending ports in order and writes each batch back (unmask)', async () => {
    const [test, device] = socketPair();
    const seen: number[] = [];
    const poller = new PendingPortPoller(device, { port: (p) => seen.push(p), error: (e) => { throw e; } });
    cleanups.push(() => poller.stop());
    poller.start();
    expect(poller.active).toBe(true);
    writeSync(test, ports(5, 9, 5));
    await nextTurn();
    expect(seen).toEqual([5, 9, 5]);
    expect(readEcho(test)).toEqual([5, 9, 5]);
    writeSync(test, ports(0xffff_fffe));
    await nextTurn();
    expect(seen.at(-1)).toBe(0xffff_fffe);
  });

  it('reads at most PORTS_PER_READ per wake-up and keeps the rest for the next', async () => {
    const [test, device] = socketPair();
    const seen: number[] = [];
    const poller = new PendingPortPoller(device, { port: (p) => seen.push(p), error: (e) => { throw e; } });
    cleanups.push(() => poller.stop());
    poller.start();
    const many = Array.from({ length: 600 }, (_, i) => i + 1);
    writeSync(test, ports(...many));
    await nextTurn(50);
    expect(seen).toEqual(many);
  });

  it('stop() ends delivery at once, start() resumes it; stop is idempotent', async () => {
    const [test, device] = socketPair();
    const seen: number[] = [];
    const poller = new PendingPortPoller(device, { port: (p) => seen.push(p), error: (e) => { throw e; } });
    poller.start();
    poller.stop();
    poller.stop();
    expect(poller.active).toBe(false);
    writeSync(test, ports(7));
    await nextTurn();
    expect(seen).toEqual([]);
    poller.start();
    await nextTurn();
    expect(seen).toEqual([7]);
    poller.stop();
  });

  it('a handler may stop the poller from inside the callback', async () => {
    const [test, device] = socketPair();
    const seen: number[] = [];
    const poller: PendingPortPoller = new PendingPortPoller(device, { port: (p) => { seen.push(p); poller.stop(); }, error: (e) => { throw e; } });
    poller.start();
    writeSync(test, ports(1, 2));
    await nextTurn();
    expect(seen).toEqual([1, 2]); // the batch already read is delivered
    writeSync(test, ports(3));
    await nextTurn();
    expect(seen).toEqual([1, 2]);
  });

  it('end of file becomes an error (EPIPE) instead of a busy loop', async () => {
    const [a, b] = loadAddon().socketPair();
    const errors: XenError[] = [];
    const poller: PendingPortPoller = new PendingPortPoller(b, { port: () => undefined, error: (e) => { errors.push(e); poller.stop(); } });
    poller.start();
    closeSync(a);
    await nextTurn();
    closeSync(b);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(XenError);
    expect(errors[0]).toMatchObject({ code: 'EPIPE', syscall: 'read' });
  });

  it('many start/stop cycles on one fd leave no active handle behind and still deliver', async () => {
    const [test, device] = socketPair();
    const seen: number[] = [];
    const poller = new PendingPortPoller(device, { port: (p) => seen.push(p), error: (e) => { throw e; } });
    for (let i = 0; i < 500; i++) {
      poller.start();
      poller.stop();
    }
    expect(poller.active).toBe(false);
    poller.start();
    writeSync(test, ports(11));
    await nextTurn();
    poller.stop();
    expect(seen).toEqual([11]);
  });

  it('a second poller on the same fd is refused with XenError EEXIST (one poller per fd)', () => {
    const [, device] = socketPair();
    const first = new PendingPortPoller(device, { port: () => undefined, error: () => undefined });
    const second = new PendingPortPoller(device, { port: () => undefined, error: () => undefined });
    first.start();
    cleanups.push(() => first.stop());
    let caught: unknown;
    try {
      second.start();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(XenError);
    expect(caught).toMatchObject({ code: 'EEXIST', syscall: 'uv_poll_init' });
    expect(second.active).toBe(false);
  });
});

describe('process lifetime with a poller (child processes)', () => {
  async function runChild(mode: string): Promise<{ code: number | null; out: string; err: string; ms: number }> {
    const started = Date.now();
    const child = spawnTs(new URL('./fixtures/poller-lifetime-child.ts', import.meta.url), [mode]);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    return { code, out, err, ms: Date.now() - started };
  }

  it('an unref\'d active poller lets the process exit; a ref\'d one keeps it alive until stopped', async () => {
    const [unrefd, refd, stopped] = await Promise.all([runChild('unref'), runChild('ref-then-stop'), runChild('stopped')]);
    for (const r of [unrefd, refd, stopped]) {
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
    }
    expect(unrefd.out.trim()).toBe('exiting');
    expect(stopped.out.trim()).toBe('exiting');
    // The ref'd poller kept the loop alive until its timer stopped it and received the port first.
    expect(refd.out.trim()).toBe('port 42\nstopped');
  });
});

describe('worker threads', () => {
  it('terminating workers with an active poller and live mappings does not crash the process', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const { addonCandidatePaths } = await import('@xenipc/core/backend-kit');
    const { existsSync } = await import('node:fs');
    const addon = addonCandidatePaths().find((path) => existsSync(path));
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/worker-teardown-child.mjs', import.meta.url)), String(addon)]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    expect({ code, signal, out: out.trim() }).toEqual({ code: 0, signal: null, out: 'ok' });
  });
});
