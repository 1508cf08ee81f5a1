/**
 * openXenBackend() against the real devices in ONE domain: two backends of this process play
 * the two sides (separate evtchn fds), granting to our own domid. Skipped, saying so, where
 * /dev/xen is absent. Uses the real xenstore when xenstored runs, else a domid-only stand-in.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventChannel, openXenBackend, type XenBackend } from '@xenipc/core';
import { spawnProgram } from '../peer/program-location.js';
import { delay, domidOnlyXenStore, EventCounter, hasXen, selfDomid, xenSuiteTitle, xenstoredRunning } from './self-domain.js';

async function open(self: number): Promise<XenBackend> {
  return xenstoredRunning ? openXenBackend() : openXenBackend({ domid: self, xenstore: domidOnlyXenStore(self) });
}

async function connectedPair(server: XenBackend, client: XenBackend, self: number): Promise<{ s: EventChannel; c: EventChannel; onS: EventCounter; onC: EventCounter }> {
  const s = await server.bindUnbound(self);
  const onS = new EventCounter();
  s.on('event', onS.hit);
  const c = await client.bindInterdomain(self, s.localPort);
  await delay(50); // the spurious event Xen raises on the binder's new port
  const onC = new EventCounter();
  c.on('event', onC.hit);
  return { s, c, onS, onC };
}

describe.skipIf(!hasXen)(xenSuiteTitle('openXenBackend'), () => {
  let self = 0;
  let server: XenBackend;
  let client: XenBackend;
  beforeAll(async () => {
    self = await selfDomid();
    server = await open(self);
    client = await open(self);
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('knows its domid', () => {
    expect(server.domid).toBe(self);
  });

  it('share + map: the same pages on both sides', async () => {
    const pages = await server.share(self, 3);
    const mapping = await client.map(self, pages.refs);
    expect(mapping.buffer.byteLength).toBe(3 * 4096);
    new Uint32Array(pages.buffer)[2000] = 0xfeedface;
    expect(new Uint32Array(mapping.buffer)[2000]).toBe(0xfeedface);
    new Uint8Array(mapping.buffer)[3 * 4096 - 1] = 9;
    expect(new Uint8Array(pages.buffer)[3 * 4096 - 1]).toBe(9);
    mapping.close();
    mapping.close();
    expect(mapping.buffer.byteLength).toBe(0);
    pages.close();
    expect(pages.buffer.byteLength).toBe(0);
  });

  it('event channels: notify both ways; status() is unknown (Linux cannot ask), closed after close', async () => {
    const { s, c, onS, onC } = await connectedPair(server, client, self);
    c.notify();
    await onS.until(1);
    s.notify();
    await onC.until(1);
    expect(await s.status()).toBe('unknown');
    c.close();
    s.close();
    expect(await s.status()).toBe('closed');
  });

  it('mapper crash path: the mapping\'s unmap-notify clears the live byte and wakes the sharer', async () => {
    const { s, c, onS } = await connectedPair(server, client, self);
    const pages = await server.share(self, 1);
    const mapping = await client.map(self, pages.refs);
    new Uint8Array(pages.buffer)[20] = 1;
    mapping.setUnmapNotify({ clearByte: 20, sendEvent: c });
    mapping.close();
    expect(new Uint8Array(pages.buffer)[20]).toBe(0);
    await onS.until(1);
    pages.close();
    c.close();
    s.close();
  });

  it('sharer crash path: the pages\' unmap-notify clears the byte the mapper sees and wakes it', async () => {
    const { s, c, onC } = await connectedPair(server, client, self);
    const pages = await server.share(self, 2);
    const mapping = await client.map(self, pages.refs);
    new Uint8Array(pages.buffer)[4096 + 21] = 1;
    pages.setUnmapNotify({ clearByte: 4096 + 21, sendEvent: s });
    pages.close();
    expect(new Uint8Array(mapping.buffer)[4096 + 21]).toBe(0);
    await onC.until(1);
    mapping.close();
    c.close();
    s.close();
  });

  it('refuses an unmap-notify port of another backend', async () => {
    const { s, c } = await connectedPair(server, client, self);
    const pages = await server.share(self, 1);
    expect(() => pages.setUnmapNotify({ sendEvent: c })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    pages.close();
    c.close();
    s.close();
  });

  it('close() releases what is still open: buffers detach, ports unbind', async () => {
    const extra = await open(self);
    const pages = await extra.share(self, 1);
    const mapping = await extra.map(self, pages.refs);
    const chan = await extra.bindUnbound(self);
    await extra.close();
    expect(pages.buffer.byteLength).toBe(0);
    expect(mapping.buffer.byteLength).toBe(0);
    expect(await chan.status()).toBe('closed');
    await expect(extra.share(self, 1)).rejects.toMatchObject({ code: 'EBADF' });
  });

  function spawnPeer(args: string[]): { child: ChildProcess; ready: Promise<{ ref?: number }> } {
    const child = spawnProgram(new URL('./fixtures/crashing-peer-child.ts', import.meta.url), args);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const ready = new Promise<{ ref?: number }>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; ref?: number }) => { if (m.ready === true) resolve(m); });
      child.on('exit', (code) => reject(new Error(`peer exited (${String(code)}) before it was ready: ${stderr}`)));
    });
    return { child, ready };
  }

  it('a killed mapper process: the kernel clears the live byte and sends the event', async () => {
    const pages = await server.share(self, 1);
    const granted = new Uint8Array(pages.buffer);
    granted[0] = 1;
    const channel = await server.bindUnbound(self);
    const events = new EventCounter();
    channel.on('event', events.hit);
    const { child, ready } = spawnPeer(['mapper', String(self), String(pages.refs[0]), String(channel.localPort)]);
    await ready;
    expect(granted[0]).toBe(1);
    child.kill('SIGKILL');
    await events.until(1, 30_000);
    expect(granted[0]).toBe(0);
    channel.close();
    pages.close();
  });

  it('a killed sharer process: the mapper sees the byte cleared and gets the event', async () => {
    const channel = await client.bindUnbound(self);
    const events = new EventCounter();
    channel.on('event', events.hit);
    const { child, ready } = spawnPeer(['sharer', String(self), String(channel.localPort)]);
    const { ref } = await ready;
    const mapping = await client.map(self, [ref as number]);
    const seen = new Uint8Array(mapping.buffer);
    expect(seen[0]).toBe(1);
    child.kill('SIGKILL');
    await events.until(1, 30_000);
    await delay(50);
    expect(seen[0]).toBe(0);
    mapping.close();
    channel.close();
  });
});
