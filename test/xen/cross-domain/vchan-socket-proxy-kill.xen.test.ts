/**
 * SIGKILL mid-transfer between @xenipc/channel in dom0 and libxenvchan's vchan-socket-proxy in
 * the domU, both moving data both ways as fast as they can:
 * - the proxy killed: our end (server or client) sees the channel end as 'peer-closed' (a
 *   libxenvchan peer cannot say whether it meant to go: its live byte is cleared by the kernel's
 *   unmap-notify either way), promptly, and our writes then fail with ChannelClosedError;
 * - our process killed (vchan-pump-program): the proxy sees the channel gone and exits by
 *   itself (0, or 1 with "vchan write failed" when a write of its found it closed), with our
 *   side as server and as client.
 */
import { VchanClient, VchanServer, ChannelClosedError, type CloseReason, type VchanEndpoint } from '@xenipc/channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { proxyPump } from '../peer/proxy-scripts.js';
import { isConnected, movedBoth, startPump } from '../peer/pump-process.js';

const MIB = 1 << 20;
/** Moved each way before the kill: well inside the transfer (rings are 1-64 KiB). */
const BEFORE_KILL = MIB / 4;
const TIMEOUT_MS = 180_000;
const RING = 64 * 1024;

/** Reads and writes on `ep` until it ends; resolves with how much moved each way and the reason. */
function pumpUntilEnd(ep: VchanEndpoint, onMoved: (read: number, written: number) => void): Promise<{ read: number; written: number; reason: CloseReason }> {
  let read = 0;
  let written = 0;
  const data = new Uint8Array(64 * 1024).fill(0xa5);
  const into = new Uint8Array(256 * 1024);
  const out = (async () => {
    while (ep.closeReason === undefined) {
      try {
        const n = ep.write(data);
        written += n;
        if (n === 0) await ep.waitWritable(RING / 2);
      } catch (err) {
        if (!(err instanceof ChannelClosedError)) throw err;
      }
      onMoved(read, written);
    }
  })();
  const inbound = (async () => {
    while (!ep.eof) {
      const n = ep.read(into);
      read += n;
      if (n === 0) await ep.waitReadable(1);
      onMoved(read, written);
    }
  })();
  return Promise.all([out, inbound]).then(() => ({ read, written, reason: ep.closeReason! }));
}

describe.skipIf(!runningInXen)('SIGKILL mid-transfer against libxenvchan (vchan-socket-proxy in the domU)', () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  for (const ourRole of ['server', 'client'] as const) {
    it(`the proxy killed while our ${ourRole} moves data both ways: 'peer-closed', then writes fail`, async () => {
      const { agent, backend, peer } = ends;
      const port = `kill-proxy-${ourRole}`;
      let ep: VchanEndpoint;
      let proxy: { handle: number };
      if (ourRole === 'server') {
        ep = await VchanServer.listen(backend, { peer, port, readSize: RING, writeSize: RING, waitForClient: false });
        proxy = await agent.call('startProcess', proxyPump({ mode: 'client', peer: 0, path: (ep as VchanServer).path }));
        await (ep as VchanServer).whenConnected(TIMEOUT_MS);
      } else {
        proxy = await agent.call('startProcess', proxyPump({ mode: 'server', peer: 0, path: `/local/domain/${peer}/data/vchan/0/${port}` }));
        ep = await VchanClient.connect(backend, { peer, port, timeoutMs: TIMEOUT_MS });
      }
      try {
        let killedAt: number | undefined;
        let kill: Promise<unknown> | undefined;
        const ended = pumpUntilEnd(ep, (read, written) => {
          if (kill === undefined && read >= BEFORE_KILL && written >= BEFORE_KILL) {
            killedAt = performance.now();
            kill = agent.call('processResult', { handle: proxy.handle, timeoutMs: 0 });   // SIGKILL now
          }
        });
        const result = await ended;
        const seenAfterMs = performance.now() - killedAt!;
        expect(await kill).toMatchObject({ signal: 'SIGKILL' });
        expect(result.reason).toBe('peer-closed');
        expect(result.read).toBeGreaterThanOrEqual(BEFORE_KILL);
        expect(() => ep.write(new Uint8Array(1))).toThrow(ChannelClosedError);
        console.log(`proxy killed under our ${ourRole}: end seen ${seenAfterMs.toFixed(0)} ms after the kill request, ${result.read} B read, ${result.written} B written`);
      } finally {
        await ep.close();
      }
    }, TIMEOUT_MS);

    it(`our ${ourRole} process killed mid-transfer: the proxy sees the channel gone and exits by itself`, async () => {
      const { agent, peer } = ends;
      const port = `kill-ours-${ourRole}`;
      const pump = startPump(ourRole, peer, port, RING);
      let proxy: { handle: number } | undefined;
      try {
        if (ourRole === 'server') {
          // The pump's server publishes first; the proxy client waits for the path to appear.
          proxy = await agent.call('startProcess', proxyPump({ mode: 'client', peer: 0, path: `/local/domain/0/data/vchan/${peer}/${port}` }));
        } else {
          proxy = await agent.call('startProcess', proxyPump({ mode: 'server', peer: 0, path: `/local/domain/${peer}/data/vchan/0/${port}` }));
        }
        await pump.waitFor(isConnected, TIMEOUT_MS);
        await pump.waitFor(movedBoth(BEFORE_KILL), TIMEOUT_MS);
        pump.child.kill('SIGKILL');
        expect(await pump.exited).toMatchObject({ signal: 'SIGKILL' });
        const result = await agent.call('processResult', { handle: proxy.handle, timeoutMs: 60_000 }, 70_000);
        proxy = undefined;
        // It ends by itself (not by the agent's SIGKILL after 60 s): 0 when it noticed in its wait,
        // 1 with "vchan write failed" when its next write found the channel closed.
        expect(result.signal).toBeNull();
        expect(result.code === 0 || (result.code === 1 && result.stderr.includes('vchan write failed')), JSON.stringify(result)).toBe(true);
      } finally {
        if (pump.child.exitCode === null && pump.child.signalCode === null) pump.child.kill('SIGKILL');
        if (proxy) await agent.call('processResult', { handle: proxy.handle, timeoutMs: 0 });
      }
    }, TIMEOUT_MS);
  }
});
