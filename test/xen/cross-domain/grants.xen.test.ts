/**
 * Grants between dom0 (this process) and the rig's domU (the peer agent), on real Xen: one side
 * shares (gntalloc), the other maps (gntdev), in both directions; data written on either side is
 * seen on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillPattern, firstPatternMismatch } from '../peer/byte-pattern.js';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';

describe.skipIf(!runningInXen)('grants dom0 <-> domU (real Xen)', () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  it('the domU shares 3 pages, dom0 maps them: each sees the other\'s writes', async () => {
    const { agent, backend, peer } = ends;
    const shared = await agent.call('share', { peer: 0, pages: 3, writable: true, seed: 11 });
    expect(shared.refs).toHaveLength(3);
    const mapping = await backend.map(peer, shared.refs, { writable: true });
    try {
      const bytes = new Uint8Array(mapping.buffer);
      expect(bytes.length).toBe(3 * 4096);
      expect(firstPatternMismatch(bytes, 11)).toBe(-1);
      fillPattern(bytes, 12);
      expect((await agent.call('check', { handle: shared.handle, seed: 12 })).mismatchAt).toBe(-1);
    } finally {
      mapping.close();
      await agent.call('close', { handle: shared.handle });
    }
    expect(mapping.buffer.byteLength).toBe(0);
  });

  it('dom0 shares 2 pages, the domU maps them: each sees the other\'s writes', async () => {
    const { agent, backend, peer } = ends;
    const granted = await backend.share(peer, 2, { writable: true });
    try {
      const bytes = new Uint8Array(granted.buffer);
      fillPattern(bytes, 21);
      const mapped = await agent.call('map', { peer: 0, refs: [...granted.refs], writable: true });
      expect((await agent.call('check', { handle: mapped.handle, seed: 21 })).mismatchAt).toBe(-1);
      await agent.call('fill', { handle: mapped.handle, seed: 22 });
      expect(firstPatternMismatch(bytes, 22)).toBe(-1);
      await agent.call('close', { handle: mapped.handle });
    } finally {
      granted.close();
    }
  });

  it('maps refs in the order given, not in allocation order', async () => {
    const { agent, backend, peer } = ends;
    const shared = await agent.call('share', { peer: 0, pages: 2, writable: true });
    await agent.call('poke', { handle: shared.handle, offset: 0, value: 0x01 });
    await agent.call('poke', { handle: shared.handle, offset: 4096, value: 0x02 });
    const reversed = await backend.map(peer, [shared.refs[1]!, shared.refs[0]!], { writable: false });
    const bytes = new Uint8Array(reversed.buffer);
    expect([bytes[0], bytes[4096]]).toEqual([0x02, 0x01]);
    reversed.close();
    await agent.call('close', { handle: shared.handle });
  });

  it('dom0 shares read-only: the domU maps it read-only and reads it, a writable mapping is refused', async () => {
    const { agent, backend, peer } = ends;
    const granted = await backend.share(peer, 1, { writable: false });
    try {
      fillPattern(new Uint8Array(granted.buffer), 31);
      const mapped = await agent.call('map', { peer: 0, refs: [...granted.refs], writable: false });
      expect((await agent.call('check', { handle: mapped.handle, seed: 31 })).mismatchAt).toBe(-1);
      await agent.call('close', { handle: mapped.handle });
      await expect(agent.call('map', { peer: 0, refs: [...granted.refs], writable: true })).rejects.toThrow();
    } finally {
      granted.close();
    }
  });

  it('mapping a grant ref the peer never issued fails with an errno', async () => {
    const { backend, peer } = ends;
    await expect(backend.map(peer, [0x7ffff], { writable: true })).rejects.toMatchObject({ code: expect.stringMatching(/^E[A-Z]+$/) });
  });
});
