/**
 * The domU's end of the cross-domain RPC test (stack-rpc.xen.test.ts), started by the peer agent:
 *   rpc-peer-program.ts <server|client> <peer domid> <port> <payload bytes>
 * Opens a vchan to `peer` (as vchan server or client), an RpcPeer over it (createChannelPeer),
 * serves HASH_METHOD, calls the peer's HASH_METHOD with random bytes and prints one JSON line
 * {"called": HashReply, "expected": sha256 of what it sent}, then stays until the peer closes the
 * channel and prints {"closed": reason}. Exit 0 only when the peer closed it cleanly.
 */
import { randomBytes } from 'node:crypto';
import { MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { openXenBackend } from '@xenipc/core';
import { createChannelPeer, type ConnectionClosedError } from '@xenipc/rpc';
import { HASH_METHOD, serveHash, sha256Hex, type HashReply } from './rpc-hash-service.js';

const CONNECT_TIMEOUT_MS = 120_000;
const [role, peerText, port, bytesText] = process.argv.slice(2);
if ((role !== 'server' && role !== 'client') || !peerText || !port || !bytesText) {
  console.error('usage: rpc-peer-program.ts <server|client> <peer domid> <port> <payload bytes>');
  process.exit(2);
}
const peer = Number(peerText);

const backend = await openXenBackend();
const endpoint: VchanEndpoint =
  role === 'server'
    ? await VchanServer.listen(backend, { peer, port, timeoutMs: CONNECT_TIMEOUT_MS })
    : await VchanClient.connect(backend, { peer, port, timeoutMs: CONNECT_TIMEOUT_MS });
const rpc = createChannelPeer(new MessageChannel(endpoint));
const closed = new Promise<ConnectionClosedError>((resolve) => rpc.once('close', resolve));
serveHash(rpc, backend.domid);

const payload = randomBytes(Number(bytesText));
const called = await rpc.call<HashReply>(HASH_METHOD, payload);
console.log(JSON.stringify({ called, expected: sha256Hex(payload) }));

const { reason } = await closed;
console.log(JSON.stringify({ closed: reason }));
await endpoint.close();
await backend.close();
process.exit(reason === 'peer-closed' ? 0 : 1);
