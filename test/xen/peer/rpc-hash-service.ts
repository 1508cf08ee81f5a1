/**
 * The RPC method both domains serve in the cross-domain RPC test (stack-rpc.xen.test.ts): the
 * SHA-256 of the bytes it was called with, and the domid of the domain that computed it, so the
 * caller sees that the call crossed to the other domain and that the payload arrived intact.
 */
import { createHash } from 'node:crypto';
import type { DomId } from '@xenipc/core';
import type { RpcPeer } from '@xenipc/rpc';

export const HASH_METHOD = 'sha256Of';

export interface HashReply {
  /** The domain whose handler ran. */
  domid: DomId;
  length: number;
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Serve HASH_METHOD on `rpc`; `onCall` sees each reply (the test records what dom0 answered). */
export function serveHash(rpc: RpcPeer, domid: DomId, onCall: (reply: HashReply) => void = () => undefined): void {
  rpc.register(HASH_METHOD, (bytes: Uint8Array): HashReply => {
    const reply = { domid, length: bytes.length, sha256: sha256Hex(bytes) };
    onCall(reply);
    return reply;
  });
}
