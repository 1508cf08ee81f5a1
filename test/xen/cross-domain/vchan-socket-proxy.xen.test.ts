/**
 * Interop with Xen's own libxenvchan, on real Xen: @xenipc/channel in dom0 against
 * `vchan-socket-proxy` (xen-utils, linked with libxenvchan) in the domU, bulk data both ways at
 * once, compared by SHA-256 (XENIPC_XEN_INTEROP_BYTES each way, default 4 MiB):
 * - our VchanServer with every ring size from 1 KiB to 1 MiB, the same both ways and asymmetric
 *   (in-page 1K/2K rings, in-page against 256 granted pages), the proxy as the client;
 * - our VchanClient against the proxy as the server (which always picks 1 KiB / 2 KiB rings).
 * The domU's input is random bytes made once; ours is random bytes made per case.
 * And the proxy, given only its input, exits at its end: our reader wakes it (see proxy-scripts.ts).
 */
import { randomBytes } from 'node:crypto';
import { VchanClient, VchanServer } from '@xenipc/channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, sha256Hex } from '../peer/bulk-exchange.js';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { makeInput, parseExchangeReport, proxyExchange, proxyToEndOfInput } from '../peer/proxy-scripts.js';

const BYTES = Number(process.env.XENIPC_XEN_INTEROP_BYTES ?? 4 * 1024 * 1024);
const INPUT = '/tmp/xenipc-interop.in';
const CASE_TIMEOUT_MS = 240_000;
/** Shorter than a case, and so are the waits for the proxy (killed after 120 s): a case that
 * hangs names its stage (connecting, the proxy's exit), or else it was moving the data. */
const CONNECT_TIMEOUT_MS = 120_000;
const K = 1024;

/**
 * Our server's requested [read, write] ring sizes and what it must pick, by libxenvchan's rule
 * (server_init): sizes are minimums; both rings go in the control page when they fit (1 KiB +
 * 2 KiB: a 1K/1K request gets 1K/2K); otherwise a ring of up to 2 KiB takes the 2 KiB slot and
 * the other gets pages (2K/2K gets 2K/4K). Every size from 1 KiB to 1 MiB, then asymmetric pairs.
 */
const SERVER_RINGS: [number, number, number, number][] = [
  [1 * K, 1 * K, 1 * K, 2 * K], [2 * K, 2 * K, 2 * K, 4 * K],
  ...Array.from({ length: 9 }, (_, i): [number, number, number, number] => [4 * K << i, 4 * K << i, 4 * K << i, 4 * K << i]),
  [2 * K, 1024 * K, 2 * K, 1024 * K], [1024 * K, 2 * K, 1024 * K, 2 * K], [4 * K, 1024 * K, 4 * K, 1024 * K],
  [1024 * K, 4 * K, 1024 * K, 4 * K], [64 * K, 1 * K, 64 * K, 2 * K], [8 * K, 256 * K, 8 * K, 256 * K],
];
const label = (n: number): string => (n >= 1024 * K ? `${n / (1024 * K)}M` : `${n / K}K`);

describe.skipIf(!runningInXen)('vchan interop with libxenvchan: vchan-socket-proxy in the domU, bulk both ways', () => {
  let ends: CrossDomain;
  let domuInputSha: string;
  beforeAll(async () => {
    ends = await openCrossDomain();
    const made = await ends.agent.call('startProcess', makeInput(INPUT, BYTES));
    const result = await ends.agent.call('processResult', { handle: made.handle, timeoutMs: 120_000 });
    const sha = /input ([0-9a-f]{64})/.exec(result.stdout);
    if (result.code !== 0 || !sha) throw new Error(`cannot make the domU's input: ${JSON.stringify(result)}`);
    domuInputSha = sha[1]!;
  });
  afterAll(() => closeCrossDomain(ends));

  it.each(SERVER_RINGS)('our server asked for rings of %i (read) / %i (write) bytes, gets %i / %i; the proxy as client', async (readSize, writeSize, readRing, writeRing) => {
    const { agent, backend, peer } = ends;
    const port = `ix-${label(readSize)}-${label(writeSize)}`;
    const server = await VchanServer.listen(backend, { peer, port, readSize, writeSize, waitForClient: false });
    const ours = randomBytes(BYTES);
    let got;
    let proxy;
    try {
      expect([server.readRingSize, server.writeRingSize]).toEqual([readRing, writeRing]);
      proxy = await agent.call('startProcess', proxyExchange({ mode: 'client', peer: 0, path: server.path, input: INPUT, bytes: BYTES }));
      await server.whenConnected(CONNECT_TIMEOUT_MS);
      got = await exchange(server, ours, BYTES);
    } finally {
      await server.close();
    }
    const report = parseExchangeReport((await agent.call('processResult', { handle: proxy.handle, timeoutMs: 120_000 }, 130_000)).stdout);
    expect(got).toEqual({ received: BYTES, sha256: domuInputSha });
    expect(report).toEqual({ received: BYTES, sha256: sha256Hex(ours), proxyExit: 0 });
  }, CASE_TIMEOUT_MS);

  it('the proxy exits by itself at the end of its input once we have read everything (no hang at EOF)', async () => {
    const { agent, backend, peer } = ends;
    const server = await VchanServer.listen(backend, { peer, port: 'ix-eof', waitForClient: false });
    try {
      const proxy = await agent.call('startProcess', proxyToEndOfInput({ mode: 'client', peer: 0, path: server.path, input: INPUT }));
      await server.whenConnected(CONNECT_TIMEOUT_MS);
      const got = await exchange(server, new Uint8Array(0), BYTES);
      expect(got).toEqual({ received: BYTES, sha256: domuInputSha });
      // We keep the channel open: the proxy ends because it was woken after its last write.
      const result = await agent.call('processResult', { handle: proxy.handle, timeoutMs: 120_000 }, 130_000);
      expect(result.stdout).toContain('proxy-exit 0');
      expect(await server.closed()).toBe('peer-closed');
    } finally {
      await server.close();
    }
  }, CASE_TIMEOUT_MS);

  it('our client, the proxy as server (its rings: 1 KiB it reads, 2 KiB it writes)', async () => {
    const { agent, backend, peer } = ends;
    const port = 'ix-proxy-server';
    const path = `/local/domain/${peer}/data/vchan/0/${port}`;
    const ours = randomBytes(BYTES);
    const proxy = await agent.call('startProcess', proxyExchange({ mode: 'server', peer: 0, path, input: INPUT, bytes: BYTES }));
    const client = await VchanClient.connect(backend, { peer, port, timeoutMs: 120_000 });
    let got;
    try {
      expect([client.readRingSize, client.writeRingSize]).toEqual([2 * K, 1 * K]);
      got = await exchange(client, ours, BYTES);
    } finally {
      await client.close();
    }
    const report = parseExchangeReport((await agent.call('processResult', { handle: proxy.handle, timeoutMs: 120_000 }, 130_000)).stdout);
    expect(got).toEqual({ received: BYTES, sha256: domuInputSha });
    expect(report).toEqual({ received: BYTES, sha256: sha256Hex(ours), proxyExit: 0 });
  }, CASE_TIMEOUT_MS);
});
