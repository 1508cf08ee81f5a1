import type { RpcCloseReason } from '../transport/rpc-transport.js';

/**
 * Rejects every call that was pending when the connection ended, and every call made afterwards.
 * `reason` says why: 'closed' (this side closed it), 'peer-closed', 'peer-crashed' (the channel saw
 * the peer process die), 'domain-gone' (the channel saw the peer's domain go away),
 * 'transport-error', 'protocol-error' (the byte stream stopped being MessagePack),
 * 'peer-not-reading' (our unsent output passed maxBufferedBytes).
 */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
  readonly code = 'ERR_RPC_CONNECTION_CLOSED';

  constructor(readonly reason: RpcCloseReason, options?: { cause?: unknown }) {
    super(`RPC connection closed: ${reason}`, options);
  }
}
