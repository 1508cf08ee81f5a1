/**
 * @xenipc/rpc across real domains, calls both ways over one channel: dom0 calls a method served
 * in the domU and the domU calls the same method served in dom0 (RpcPeer via createChannelPeer
 * over a MessageChannel on a vchan), with dom0 as the vchan server and as the vchan client. The
 * domU's end is test/xen/peer/rpc-peer-program.ts, started by the peer agent. Payloads are larger
 * than the 64 KiB rings, so each call streams through them.
 */
import { randomBytes } from 'node:crypto';
import { MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { createChannelPeer } from '@xenipc/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessResult } from '../peer/agent-protocol.js';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { HASH_METHOD, serveHash, sha256Hex, type HashReply } from '../peer/rpc-hash-service.js';
import { rpcPeerProgram } from '../peer/stack-commands.js';

const PAYLOAD_BYTES = 100_000;
/** Node + tsx start in the emulated domU, then the connection. */
const CONNECT_TIMEOUT_MS = 150_000;
const CALL_TIMEOUT_MS = 60_000;

interface DomuCall {
  called: HashReply;
  expected: string;
}

describe.skipIf(!runningInXen)('rpc calls both ways between dom0 and the domU over one channel (real Xen)', () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  for (const dom0Role of ['server', 'client'] as const) {
    const domuRole = dom0Role === 'server' ? 'client' : 'server';
    it(`dom0 as vchan ${dom0Role}, the domU as vchan ${domuRole}: each calls the method the other serves`, { timeout: CONNECT_TIMEOUT_MS + 3 * CALL_TIMEOUT_MS }, async () => {
      const { agent, backend, peer } = ends;
      const port = `rpc-dom0-${dom0Role}`;
      const listening = dom0Role === 'server' ? VchanServer.listen(backend, { peer, port, timeoutMs: CONNECT_TIMEOUT_MS }) : undefined;
      const program = await agent.call('startProcess', rpcPeerProgram([domuRole, '0', port, String(PAYLOAD_BYTES)]));
      let endpoint: VchanEndpoint | undefined;
      let result: ProcessResult | undefined;
      try {
        endpoint = listening ? await listening : await VchanClient.connect(backend, { peer, port, timeoutMs: CONNECT_TIMEOUT_MS });
        const rpc = createChannelPeer(new MessageChannel(endpoint));
        const answered: HashReply[] = [];
        serveHash(rpc, backend.domid, (reply) => answered.push(reply));

        // dom0 -> domU: the handler ran in the domU and saw our bytes intact.
        const payload = randomBytes(PAYLOAD_BYTES);
        const reply = await rpc.callWith<HashReply>({ timeoutMs: CALL_TIMEOUT_MS }, HASH_METHOD, payload);
        expect(reply).toEqual({ domid: peer, length: PAYLOAD_BYTES, sha256: sha256Hex(payload) });

        // domU -> dom0: our handler answered it, and the domU got our answer.
        const { stdout } = await agent.call('awaitProcessOutput', { handle: program.handle, text: '"called"', timeoutMs: CALL_TIMEOUT_MS }, CALL_TIMEOUT_MS + 30_000);
        const line = stdout.split('\n').find((text) => text.includes('"called"')) as string;
        const domuCall = JSON.parse(line) as DomuCall;
        expect(domuCall.called).toEqual({ domid: 0, length: PAYLOAD_BYTES, sha256: domuCall.expected });
        expect(answered).toEqual([domuCall.called]);

        rpc.close();
      } finally {
        // Clean-up only: a failure above is the one to report.
        await endpoint?.close();
        result = await agent.call('processResult', { handle: program.handle, timeoutMs: CALL_TIMEOUT_MS }, CALL_TIMEOUT_MS + 30_000).catch(() => undefined);
      }
      // The domU's program exits 0 only when it saw our clean close.
      expect(result, `domU program: ${result?.stderr}`).toMatchObject({ code: 0, signal: null });
      expect(result?.stdout).toContain('{"closed":"peer-closed"}');
    });
  }
});
