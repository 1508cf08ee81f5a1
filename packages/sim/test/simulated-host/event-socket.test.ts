/**
 * The simulated host's event sockets (native/event_socket.cc) and the PortPoller's datagram mode
 * that reads them: 8-byte {domid, port} datagrams in, pairs out; anything else is dropped; a
 * send that cannot go reports its errno instead of throwing, so the caller can route around it.
 */
import { closeSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from '@xenipc/core/backend-kit';
import { PeerRoute } from '../../src/simulated-host/event-links.js';

const addon = loadAddon();
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function closeLater(fd: number): number {
  cleanups.push(() => closeSync(fd));
  return fd;
}

function abstractName(): string {
  return `\0xenipc-test-evt-${randomBytes(6).toString('hex')}`;
}

/** Starts a datagram-mode poller on fd; returns the pairs it delivered so far. */
function pollPairs(fd: number): Array<[number, number]> {
  const seen: Array<[number, number]> = [];
  const buffer = new Uint32Array(8);
  const poller = new addon.PortPoller(
    fd,
    buffer,
    (count, error) => {
      if (error !== undefined) throw error;
      expect(count % 2).toBe(0);
      for (let i = 0; i < count; i += 2) seen.push([buffer[i] as number, buffer[i + 1] as number]);
    },
    true,
  );
  poller.start();
  cleanups.push(() => poller.stop());
  return seen;
}

function pair(from: number, port: number): Buffer {
  return Buffer.from(Uint32Array.of(from, port).buffer);
}

function nextTurn(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('event sockets', () => {
  it('carry {from, port} datagrams from a connected sender to the bound receiver, in order', async () => {
    const name = abstractName();
    const receiver = closeLater(addon.eventSocketBind(name));
    const sender = closeLater(addon.eventSocketConnect(name));
    const seen = pollPairs(receiver);
    // More than the poller's buffer (4 pairs) in one go: the rest comes on the next wake-ups.
    for (let port = 1; port <= 10; port++) expect(addon.eventSocketSend(sender, 7, port)).toBe(0);
    expect(addon.eventSocketSend(sender, 0xffff_fffe, 0xffff_ffff)).toBe(0);
    await nextTurn();
    expect(seen).toEqual([...Array.from({ length: 10 }, (_, i) => [7, i + 1]), [0xffff_fffe, 0xffff_ffff]]);
  });

  it('drop datagrams that are not exactly 8 bytes, and keep delivering the good ones', async () => {
    const [test, device] = addon.socketPair(true).map(closeLater) as [number, number];
    const seen = pollPairs(device);
    writeSync(test, pair(1, 2));
    writeSync(test, Buffer.alloc(4, 0xff));
    writeSync(test, Buffer.alloc(12, 0xee));
    writeSync(test, Buffer.alloc(0));
    writeSync(test, Buffer.alloc(65536, 0xdd));
    writeSync(test, pair(3, 4));
    await nextTurn();
    expect(seen).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('report a full receive queue as EAGAIN and a vanished receiver as ECONNREFUSED', () => {
    const name = abstractName();
    const receiver = addon.eventSocketBind(name);
    const sender = closeLater(addon.eventSocketConnect(name));
    let result = 0;
    let sent = 0;
    // Nobody reads: the queue fills (net.unix.max_dgram_qlen, or the receive buffer) within a few thousand.
    for (; sent < 100_000 && result === 0; sent++) result = addon.eventSocketSend(sender, 1, 1);
    expect(result).toBe(constants.errno.EAGAIN);
    expect(sent).toBeGreaterThan(1);
    closeSync(receiver);
    expect(addon.eventSocketSend(sender, 1, 1)).toBe(constants.errno.ECONNREFUSED);
  });

  it('connecting to a name nobody bound throws ECONNREFUSED', () => {
    expect(() => addon.eventSocketConnect(abstractName())).toThrow(expect.objectContaining({ code: 'ECONNREFUSED', syscall: 'connect' }));
  });
});

describe('PeerRoute', () => {
  function routeTo(name: string, pending: Uint8Array): PeerRoute {
    const peerRoute = new PeerRoute(addon, 5, pending, addon.eventSocketConnect(name));
    cleanups.push(() => peerRoute.close());
    return peerRoute;
  }

  it('sends one datagram while the port is pending, however many times it is raised', async () => {
    const name = abstractName();
    const seen = pollPairs(closeLater(addon.eventSocketBind(name)));
    const pending = new Uint8Array(64);
    const r = routeTo(name, pending);
    expect(r.raise(9)).toBe(true);
    expect(r.raise(9)).toBe(true);
    expect(r.raise(9)).toBe(true);
    expect(pending[9]).toBe(1);
    await nextTurn();
    expect(seen).toEqual([[5, 9]]);
    pending[9] = 0; // what the receiving domain does before it emits 'event'
    expect(r.raise(9)).toBe(true);
    await nextTurn();
    expect(seen).toEqual([
      [5, 9],
      [5, 9],
    ]);
  });

  it('says false (go through the host) once the peer is gone or the route is closed', () => {
    const name = abstractName();
    const receiver = addon.eventSocketBind(name);
    const r = routeTo(name, new Uint8Array(64));
    closeSync(receiver);
    expect(r.raise(3)).toBe(false);
    r.close();
    expect(r.raise(4)).toBe(false);
  });
});
