/**
 * No leak across many channels on real Xen: N+1 vchans one after the other between dom0 (this
 * process) and the domU (ledger-peer-program), each opened with the largest rings (1 MiB each
 * way: 513 granted pages), carrying 1 MiB each way (checked by SHA-256 against the pattern the
 * other side sent) and closed; once with dom0 as the server, once as the client. The first is a
 * warm-up (devices open lazily on first use: one fd each). After the other N, what both sides
 * hold is back to the baseline taken after the warm-up: gntalloc and gntdev mappings
 * and open fds of both processes, Xen's bound event-channel ports of both domains, the xenstore
 * entries under both data/vchan directories. And the last channel connects about as fast as the
 * first (nothing accumulates that makes a later connect slower).
 * Client closes first, server after it (peer/ledger-channel.ts: pages the peer still maps count
 * against gntalloc's global limit); the servers' ENOSPC retries are reported, not hidden.
 * N: XENIPC_XEN_LEDGER_CHANNELS (default 100).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelPayload } from '../peer/byte-pattern.js';
import { exchange } from '../peer/bulk-exchange.js';
import { closeLedgerChannel, ledgerStats, openLedgerChannel } from '../peer/ledger-channel.js';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { domainLedger, processLedger, type ProcessLedger } from '../peer/resource-ledger.js';
import { tsProgram } from '../peer/stack-commands.js';
import { xsRm, xsWrite } from '../peer/xenstore-cli.js';

const N = Number(process.env.XENIPC_XEN_LEDGER_CHANNELS ?? 100);
const RING = 1 << 20;
const PAYLOAD = 1 << 20;
const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Two patterns per direction, alternating (see ledger-peer-program.ts).
const ours = [channelPayload(PAYLOAD, 0, true), channelPayload(PAYLOAD, 1, true)];
const theirs = [sha(channelPayload(PAYLOAD, 0, false)), sha(channelPayload(PAYLOAD, 1, false))];

interface PeerLine { event: string; baseline?: ProcessLedger; ledger?: ProcessLedger; badChannels?: number[]; enospcRetries?: number }
function peerLine(stdout: string, event: string): PeerLine {
  const line = stdout.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`{"event":"${event}"`));
  if (!line) throw new Error(`no ${event} line from the domU's ledger program in: ${stdout.slice(-500)}`);
  return JSON.parse(line) as PeerLine;
}

describe.skipIf(!runningInXen)(`resource ledger: ${N + 1} channels in a row with 1 MiB rings, 1 MiB each way`, () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  for (const dom0Role of ['server', 'client'] as const) {
    // This test found a kernel deadlock: a WATCH/UNWATCH written to /dev/xen/xenbus while a reply
    // was still due hung the domU's xenstore for good (see @xenipc/core's xs-client.ts).
    it(`dom0 as ${dom0Role}: everything back to baseline on both sides, the last connect as fast as the first`, async () => {
      const { agent, backend, peer } = ends;
      const prefix = `lg${dom0Role[0]}`;
      const goPath = `/local/domain/${peer}/data/xenipc-ledger-${prefix}-go`;
      await xsRm(goPath).catch(() => undefined);
      const program = await agent.call('startProcess', tsProgram('test/xen/peer/ledger-peer-program.ts',
        [dom0Role === 'server' ? 'client' : 'server', '0', String(N + 1), prefix, String(RING), String(PAYLOAD), goPath]));
      const connectMs: number[] = [];
      const retriesBefore = ledgerStats.enospcRetries;
      const bad: number[] = [];
      let collected = false;
      const oneChannel = async (i: number): Promise<void> => {
        const port = `${prefix}${i}`;
        const t0 = performance.now();
        const ep = await openLedgerChannel(dom0Role, backend, peer, port, RING);
        connectMs.push(performance.now() - t0);
        try {
          const got = await exchange(ep, ours[i % 2]!, PAYLOAD);
          if (got.received !== PAYLOAD || got.sha256 !== theirs[i % 2]) bad.push(i);
        } finally {
          await closeLedgerChannel(ep);
        }
      };
      try {
        // Channel 1 warms up (each side opens its devices on first use); the baseline follows it.
        await oneChannel(1);
        await agent.call('awaitProcessOutput', { handle: program.handle, text: '"event":"warm"', timeoutMs: 120_000 }, 130_000);
        const dom0Before = processLedger();
        const domainsBefore = { dom0: await domainLedger(0), domU: await domainLedger(peer) };
        await xsWrite(goPath, '1');
        for (let i = 2; i <= N + 1; i++) await oneChannel(i);
        const done = peerLine((await agent.call('awaitProcessOutput', { handle: program.handle, text: '"event":"done"', timeoutMs: 120_000 }, 130_000)).stdout, 'done');
        // Counted while the domU's program is still alive: its own close() released everything, not its exit.
        const domainsAfter = { dom0: await domainLedger(0), domU: await domainLedger(peer) };
        const first = connectMs[1]!;                  // channel 2: the first after the warm-up
        const early = median(connectMs.slice(1, 11));
        const last = connectMs[N]!;                   // channel N+1
        console.log(`ledger, dom0 as ${dom0Role}, ${N} channels after the warm-up: connect ms: warm-up ${connectMs[0]!.toFixed(0)}, ` +
          `first ${first.toFixed(0)}, median of the first 10 ${early.toFixed(0)}, median ${median(connectMs.slice(1)).toFixed(0)}, ` +
          `max ${Math.max(...connectMs.slice(1)).toFixed(0)}, last (channel ${N + 1}) ${last.toFixed(0)}; ` +
          `listen retried on gntalloc ENOSPC: dom0 ${ledgerStats.enospcRetries - retriesBefore}, domU ${done.enospcRetries}; ledger ${JSON.stringify({ dom0: dom0Before, domU: done.baseline, domains: domainsBefore })}`);
        expect(bad).toEqual([]);
        expect(done.badChannels).toEqual([]);
        expect(processLedger()).toEqual(dom0Before);
        expect(done.baseline).toBeDefined();
        expect(done.ledger).toEqual(done.baseline);
        expect(domainsAfter).toEqual(domainsBefore);
        // Generous: TCG timing on a shared host jitters a lot; a leak that slows connects grows with N.
        expect(last).toBeLessThanOrEqual(3 * Math.max(first, early) + 1000);
      } catch (err) {
        const failedAt = connectMs.length + 1;
        // Said first: what follows asks the domU, which may not answer any more.
        console.log(`ledger, dom0 as ${dom0Role}: channel ${failedAt} failed: ${(err as Error).stack ?? String(err)}`);
        // What the domU's end said is the other half of the story.
        const domU = await agent.call('processResult', { handle: program.handle, timeoutMs: 0 }).catch((e: Error) => ({ error: e.message }));
        collected = true;
        console.log(`ledger, dom0 as ${dom0Role}: failed at channel ${failedAt}; the domU's program: ${JSON.stringify(domU)}`);
        throw err;
      } finally {
        if (!collected) await agent.call('processResult', { handle: program.handle, timeoutMs: 0 });
        await xsRm(goPath).catch(() => undefined);
      }
    }, 3_600_000);
  }
});
