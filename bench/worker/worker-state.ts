/**
 * What one worker process holds between commands: at most one open connection (message or RPC),
 * the pending half of a receive that was armed before the sender started, and its simulated-Xen
 * membership.
 */
import type { ChildProcess } from 'node:child_process';
import type { Side } from '../control/protocol.js';
import type { MessageEndpoint, RpcEndpoint, StreamReceiveResult } from './endpoint.js';

export interface WorkerState {
  side: Side;
  /** Worker B, in worker A (the child_process IPC baseline's other end). */
  child: ChildProcess | undefined;
  connection: MessageEndpoint | RpcEndpoint | undefined;
  /** Listener side: resolves when the other worker has connected. */
  pendingConnection: Promise<MessageEndpoint | RpcEndpoint> | undefined;
  pendingReceive: Promise<StreamReceiveResult> | undefined;
  /** The simulated host this worker joined (xenipc transports), as an opaque backend. */
  backend: unknown;
}
