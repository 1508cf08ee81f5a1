/**
 * Event channels between dom0 (this process) and the rig's domU (the peer agent), on real Xen:
 * either side offers the port (BIND_UNBOUND_PORT), the other binds (BIND_INTERDOMAIN), and events
 * go both ways on each pair.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { EventCounter } from '../peer/event-counter.js';

const EVENT_TIMEOUT_MS = 15_000;

describe.skipIf(!runningInXen)('event channels dom0 <-> domU (real Xen)', () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  it('dom0 offers a port, the domU binds it: events both ways', async () => {
    const { agent, backend, peer } = ends;
    const local = new EventCounter(await backend.bindUnbound(peer));
    expect(local.channel.remoteDomain).toBe(peer);
    const remote = await agent.call('bindInterdomain', { peer: 0, port: local.channel.localPort });
    try {
      // dom0 -> domU
      const before = (await agent.call('settledEventCount', { handle: remote.handle, quietMs: 300 })).count;
      local.channel.notify();
      await agent.call('waitEvents', { handle: remote.handle, count: before + 1, timeoutMs: EVENT_TIMEOUT_MS });
      // domU -> dom0 (the offering side gets no bind-time event)
      expect(local.count).toBe(0);
      await agent.call('notify', { handle: remote.handle });
      await local.waitFor(1, EVENT_TIMEOUT_MS);
    } finally {
      await agent.call('close', { handle: remote.handle });
      local.channel.close();
    }
  });

  it('the domU offers a port, dom0 binds it: events both ways', async () => {
    const { agent, backend, peer } = ends;
    const remote = await agent.call('bindUnbound', { peer: 0 });
    const local = new EventCounter(await backend.bindInterdomain(peer, remote.port));
    try {
      // domU -> dom0
      const before = await local.settled(300);
      await agent.call('notify', { handle: remote.handle });
      await local.waitFor(before + 1, EVENT_TIMEOUT_MS);
      // dom0 -> domU
      local.channel.notify();
      await agent.call('waitEvents', { handle: remote.handle, count: 1, timeoutMs: EVENT_TIMEOUT_MS });
    } finally {
      local.channel.close();
      await agent.call('close', { handle: remote.handle });
    }
  });

  it('many notifies in a row arrive as at least one event, and delivery keeps working after', async () => {
    const { agent, backend, peer } = ends;
    const local = new EventCounter(await backend.bindUnbound(peer));
    const remote = await agent.call('bindInterdomain', { peer: 0, port: local.channel.localPort });
    try {
      await agent.call('notify', { handle: remote.handle, times: 100 });
      const afterBurst = await local.waitFor(1, EVENT_TIMEOUT_MS);
      expect(afterBurst).toBeLessThanOrEqual(100);
      await local.settled(300);
      const settled = local.count;
      await agent.call('notify', { handle: remote.handle });
      await local.waitFor(settled + 1, EVENT_TIMEOUT_MS);
    } finally {
      await agent.call('close', { handle: remote.handle });
      local.channel.close();
    }
  });
});
