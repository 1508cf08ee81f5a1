/**
 * Opening and closing one channel of the resource ledger test, the same way on both sides
 * (cross-domain/resource-ledger.xen.test.ts in dom0, ledger-peer-program.ts in the domU).
 *
 * Pages a peer still has mapped when the granting side deallocates them keep counting against
 * gntalloc's global limit (1024 pages by default) until the peer has unmapped them; a channel
 * with 1 MiB rings grants 513. So the client closes first and the server closes once it has seen
 * the client go (and released its side), and a server that still finds the limit reached (the
 * client's unmapping is a moment behind its goodbye) retries for a while: `enospcRetries` counts
 * those retries, so the test can report them.
 */
import { VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import type { DomId, XenBackend } from '@xenipc/core';

export const ledgerStats = { enospcRetries: 0 };
const RETRY_FOR_MS = 30_000;

export async function openLedgerChannel(role: 'server' | 'client', backend: XenBackend, peer: DomId, port: string, ring: number): Promise<VchanEndpoint> {
  if (role === 'client') return VchanClient.connect(backend, { peer, port, timeoutMs: 120_000 });
  const deadline = Date.now() + RETRY_FOR_MS;
  for (;;) {
    try {
      return await VchanServer.listen(backend, { peer, port, readSize: ring, writeSize: ring, timeoutMs: 120_000 });
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOSPC' || Date.now() > deadline) throw err;
      ledgerStats.enospcRetries++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** The client closes at once; the server waits until the client has gone, then closes. */
export async function closeLedgerChannel(ep: VchanEndpoint): Promise<void> {
  if (ep.role === 'server') {
    const timer = setTimeout(() => void ep.close(), 60_000);
    try {
      await ep.closed();
    } finally {
      clearTimeout(timer);
    }
  }
  await ep.close();
}
