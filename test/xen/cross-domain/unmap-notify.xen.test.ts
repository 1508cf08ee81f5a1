/**
 * Unmap notifications across domains on real Xen, fired by a process killed with SIGKILL (no
 * cleanup code runs): the kernel must clear the agreed byte and send the event, and the survivor
 * in the other domain sees both. Both directions, and both ends of a grant (mapper and sharer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VictimReady } from '../peer/agent-protocol.js';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { EventCounter } from '../peer/event-counter.js';
import { startVictim } from '../peer/victim-process.js';
import { waitUntil } from '../peer/wait-until.js';

const CLEAR_BYTE = 100;
const NOTIFY_TIMEOUT_MS = 20_000;

describe.skipIf(!runningInXen)('unmap notify on SIGKILL, dom0 <-> domU (real Xen)', () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  it('a domU process mapping dom0\'s page is killed: dom0 sees the byte cleared and gets the event', async () => {
    const { agent, backend, peer } = ends;
    const granted = await backend.share(peer, 1, { writable: true });
    const bytes = new Uint8Array(granted.buffer);
    bytes[CLEAR_BYTE] = 0x5a;
    const events = new EventCounter(await backend.bindUnbound(peer));
    try {
      const victim = await agent.call('spawnVictim', {
        role: 'mapper', peer: 0, refs: [...granted.refs], remotePort: events.channel.localPort, clearByte: CLEAR_BYTE,
      });
      expect(bytes[CLEAR_BYTE]).toBe(0x5a);
      expect((await agent.call('killVictim', { handle: victim.handle, signal: 'SIGKILL' })).signal).toBe('SIGKILL');
      await waitUntil('dom0\'s byte to be cleared', NOTIFY_TIMEOUT_MS, () => bytes[CLEAR_BYTE] === 0);
      await events.waitFor(1, NOTIFY_TIMEOUT_MS);
    } finally {
      events.channel.close();
      granted.close();
    }
  });

  it('a dom0 process mapping the domU\'s page is killed: the domU sees the byte cleared and gets the event', async () => {
    const { agent, peer } = ends;
    const shared = await agent.call('share', { peer: 0, pages: 1, writable: true });
    await agent.call('poke', { handle: shared.handle, offset: CLEAR_BYTE, value: 0x5a });
    const port = await agent.call('bindUnbound', { peer: 0 });
    try {
      const victim = await startVictim({ role: 'mapper', peer, refs: shared.refs, remotePort: port.port, clearByte: CLEAR_BYTE });
      expect((await agent.call('peek', { handle: shared.handle, offset: CLEAR_BYTE })).value).toBe(0x5a);
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');
      await agent.call('waitByteCleared', { handle: shared.handle, offset: CLEAR_BYTE, timeoutMs: NOTIFY_TIMEOUT_MS });
      await agent.call('waitEvents', { handle: port.handle, count: 1, timeoutMs: NOTIFY_TIMEOUT_MS });
    } finally {
      await agent.call('close', { handle: port.handle });
      await agent.call('close', { handle: shared.handle });
    }
  });

  it('a domU process sharing a page with dom0 is killed: dom0\'s mapping sees the byte cleared and gets the event', async () => {
    const { agent, backend, peer } = ends;
    const victim = await agent.call('spawnVictim', { role: 'sharer', peer: 0, pages: 1, clearByte: CLEAR_BYTE });
    const { refs, port } = sharerReady(victim.ready);
    const mapping = await backend.map(peer, refs, { writable: true });
    const events = new EventCounter(await backend.bindInterdomain(peer, port));
    try {
      const bytes = new Uint8Array(mapping.buffer);
      expect(bytes[CLEAR_BYTE]).toBe(0xa5);
      const before = await events.settled(300);
      await agent.call('killVictim', { handle: victim.handle, signal: 'SIGKILL' });
      await waitUntil('the byte in dom0\'s mapping to be cleared', NOTIFY_TIMEOUT_MS, () => bytes[CLEAR_BYTE] === 0);
      await events.waitFor(before + 1, NOTIFY_TIMEOUT_MS);
    } finally {
      events.channel.close();
      mapping.close();
    }
  });

  it('a dom0 process sharing a page with the domU is killed: the domU\'s mapping sees the byte cleared and gets the event', async () => {
    const { agent, peer } = ends;
    const victim = await startVictim({ role: 'sharer', peer, pages: 1, clearByte: CLEAR_BYTE });
    const { refs, port } = sharerReady(victim.ready);
    const mapped = await agent.call('map', { peer: 0, refs, writable: true });
    const bound = await agent.call('bindInterdomain', { peer: 0, port });
    try {
      expect((await agent.call('peek', { handle: mapped.handle, offset: CLEAR_BYTE })).value).toBe(0xa5);
      const before = (await agent.call('settledEventCount', { handle: bound.handle, quietMs: 300 })).count;
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');
      await agent.call('waitByteCleared', { handle: mapped.handle, offset: CLEAR_BYTE, timeoutMs: NOTIFY_TIMEOUT_MS });
      await agent.call('waitEvents', { handle: bound.handle, count: before + 1, timeoutMs: NOTIFY_TIMEOUT_MS });
    } finally {
      await agent.call('close', { handle: bound.handle });
      await agent.call('close', { handle: mapped.handle });
    }
  });
});

function sharerReady(ready: VictimReady): { refs: number[]; port: number } {
  if (ready.refs === undefined || ready.port === undefined) throw new Error(`sharer victim reported no refs/port: ${JSON.stringify(ready)}`);
  return { refs: ready.refs, port: ready.port };
}
