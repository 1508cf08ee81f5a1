/**
 * @xenipc/channel on real Xen (the rig: dom0 runs this file, the domU runs the peer agent; see
 * test/xen/run-suite.sh, `pnpm test:xen`). Skips anywhere else.
 *
 * The agent offers only raw primitives (map, poke, peek, notify, xenstore), so the domU end is
 * driven here byte by byte from the libxenvchan layout -- which makes these wire-compatibility
 * tests: our server is checked against a hand-made client and our client against a hand-made
 * server, over real grants, event channels and xenstore, plus a real kernel unmap-notify when a
 * process holding the mapping is SIGKILLed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VchanClient, VchanServer, type CloseReason } from '@xenipc/channel';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';

type Agent = CrossDomain['agent'];

async function pokeU32(agent: Agent, handle: number, offset: number, value: number): Promise<void> {
  for (let i = 0; i < 4; i++) await agent.call('poke', { handle, offset: offset + i, value: (value >>> (8 * i)) & 0xff });
}

async function peekBytes(agent: Agent, handle: number, offset: number, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await agent.call('peek', { handle, offset: offset + i })).value);
  return out;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.skipIf(!runningInXen)('vchan dom0 <-> domU (real Xen only; skipped outside a Xen domain)', () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  it('our server in dom0, a hand-made libxenvchan client in the domU: rendezvous, header, data both ways, close', async () => {
    const { agent, backend, peer } = ends;
    const server = await VchanServer.listen(backend, { peer, port: 'xen-a', readSize: 1024, writeSize: 2048, waitForClient: false });
    try {
      const ringRef = Number((await agent.call('xsClientRead', { path: `${server.path}/ring-ref` })).value);
      const port = Number((await agent.call('xsClientRead', { path: `${server.path}/event-channel` })).value);
      expect(ringRef).toBe(server.ringRef);
      const page = (await agent.call('map', { peer: 0, refs: [ringRef], writable: true })).handle;
      const evt = (await agent.call('bindInterdomain', { peer: 0, port })).handle;
      // The header as libxenvchan's init_gnt_srv writes it.
      expect(await peekBytes(agent, page, 16, 6)).toEqual([10, 0, 11, 0, 2, 1]);
      // Connect: cli_live = 1, then one event.
      const connected = new Promise<void>((resolve) => server.once('connect', resolve));
      await agent.call('poke', { handle: page, offset: 20, value: 1 });
      await agent.call('notify', { handle: evt });
      await connected;
      // Client -> server: "hi" into LEFT (offset 1024), then left.prod = 2 and an event.
      await agent.call('poke', { handle: page, offset: 1024, value: 0x68 });
      await agent.call('poke', { handle: page, offset: 1025, value: 0x69 });
      await pokeU32(agent, page, 4, 2);
      await agent.call('notify', { handle: evt });
      await server.waitReadable(2);
      const buf = new Uint8Array(8);
      expect(server.read(buf)).toBe(2);
      expect(Buffer.from(buf.subarray(0, 2)).toString()).toBe('hi');
      expect(await peekBytes(agent, page, 0, 4)).toEqual([2, 0, 0, 0]); // left.cons published
      // Server -> client: RIGHT ring at offset 2048, right.prod at 12.
      expect(server.write(new Uint8Array([1, 2, 3]))).toBe(3);
      expect(await peekBytes(agent, page, 2048, 3)).toEqual([1, 2, 3]);
      expect(await peekBytes(agent, page, 12, 4)).toEqual([3, 0, 0, 0]);
      // Clean close of the client: live = 0 and an event -> peer-closed (it has no goodbye flags).
      const closed = new Promise<CloseReason>((resolve) => server.once('close', resolve));
      await agent.call('poke', { handle: page, offset: 20, value: 0 });
      await agent.call('notify', { handle: evt });
      expect(await closed).toBe('peer-closed');
      await agent.call('close', { handle: page });
      await agent.call('close', { handle: evt });
    } finally {
      await server.close();
    }
    await expect(backend.xenstore.read(`${server.path}/ring-ref`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a SIGKILLed domU process holding the mapping: the kernel clears cli_live, our server reports peer-crashed', async () => {
    const { agent, backend, peer } = ends;
    const server = await VchanServer.listen(backend, { peer, port: 'xen-b', readSize: 4096, writeSize: 4096, waitForClient: false });
    try {
      const victim = await agent.call('spawnVictim', { role: 'mapper', peer: 0, refs: [server.ringRef], remotePort: server.localPort, clearByte: 20 });
      // Play the victim's connect through a second mapping: live = 1 and the xenipc flag
      // "I say goodbye when I close on purpose", so a silent death means a crash.
      const page = (await agent.call('map', { peer: 0, refs: [server.ringRef], writable: true })).handle;
      await agent.call('poke', { handle: page, offset: 22, value: 0x41 });
      await agent.call('poke', { handle: page, offset: 20, value: 1 });
      const closed = new Promise<CloseReason>((resolve) => server.once('close', resolve));
      const t0 = Date.now();
      await agent.call('killVictim', { handle: victim.handle, signal: 'SIGKILL' });
      expect(await closed).toBe('peer-crashed');
      // Under QEMU emulation the agent's xenstore round trip (xenstore-* tools started in the domU)
      // alone takes 1-4 s, so this bound only proves detection does not hang; the 100 ms latency
      // bound is asserted on the simulated host (test/channel/vchan-sim.test.ts).
      expect(Date.now() - t0).toBeLessThan(10_000);
      await agent.call('close', { handle: page });
    } finally {
      await server.close();
    }
  });

  it('our client in dom0, a hand-made libxenvchan server in the domU', async () => {
    const { agent, backend, peer } = ends;
    const shared = await agent.call('share', { peer: 0, pages: 1, writable: true });
    const page = shared.handle;
    const evt = await agent.call('bindUnbound', { peer: 0 });
    // Header: orders 10/11 (in-page rings), cli_live 2, srv_live 1, cli_notify WRITE.
    for (const [offset, value] of [[16, 10], [18, 11], [20, 2], [21, 1], [22, 1]] as const) {
      await agent.call('poke', { handle: page, offset, value });
    }
    const path = `/local/domain/${peer}/data/vchan/0/xen-c`;
    await agent.call('xsClientWrite', { path: `${path}/ring-ref`, value: String(shared.refs[0]) });
    await agent.call('xsClientWrite', { path: `${path}/event-channel`, value: String(evt.port) });
    const client = await VchanClient.connect(backend, { peer, port: 'xen-c', timeoutMs: 20_000 });
    try {
      expect(client.readRingSize).toBe(2048);
      expect(client.writeRingSize).toBe(1024);
      expect((await peekBytes(agent, page, 20, 1))[0]).toBe(1); // cli_live = 1 after connect
      expect(client.write(new Uint8Array([9, 8, 7]))).toBe(3);
      expect(await peekBytes(agent, page, 1024, 3)).toEqual([9, 8, 7]);
      expect(await peekBytes(agent, page, 4, 4)).toEqual([3, 0, 0, 0]);
      // Server -> client: 2 bytes into RIGHT (2048), right.prod = 2, an event.
      await agent.call('poke', { handle: page, offset: 2048, value: 0x4f });
      await agent.call('poke', { handle: page, offset: 2049, value: 0x4b });
      await pokeU32(agent, page, 12, 2);
      await agent.call('notify', { handle: evt.handle });
      await client.waitReadable(2);
      const buf = new Uint8Array(4);
      expect(client.read(buf)).toBe(2);
      expect(Buffer.from(buf.subarray(0, 2)).toString()).toBe('OK');
      // Server closes: srv_live = 0 + event -> peer-closed.
      const closed = new Promise<CloseReason>((resolve) => client.once('close', resolve));
      await agent.call('poke', { handle: page, offset: 21, value: 0 });
      await agent.call('notify', { handle: evt.handle });
      expect(await closed).toBe('peer-closed');
      await waitFor(() => client.closeReason !== undefined, 1000);
    } finally {
      await client.close();
      await agent.call('close', { handle: page });
      await agent.call('close', { handle: evt.handle });
    }
  });
});
