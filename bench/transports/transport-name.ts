/** Every connection kind the benchmark can open between the two workers of a pair. */
export const MESSAGE_TRANSPORTS = ['xenipc', 'unix-socket', 'child-ipc'] as const;
export const RPC_TRANSPORTS = ['rpc-xenipc', 'rpc-unix-socket'] as const;

export type MessageTransport = (typeof MESSAGE_TRANSPORTS)[number];
export type RpcTransport = (typeof RPC_TRANSPORTS)[number];
export type TransportName = MessageTransport | RpcTransport;

/** Options of one connection; transports ignore what does not apply to them. */
export interface ConnectionParams {
  /** Ring size in bytes, each direction (xenipc). */
  ringBytes?: number;
  /** Busy-poll the ring before sleeping on the event channel (xenipc). */
  spin?: boolean;
  /** The peer's domain id (xenipc): the connector's for the listener and vice versa. */
  peerDomid?: number;
  /** Unix socket stream sender: one write() per message instead of batches (the naive use). */
  oneWritePerMessage?: boolean;
  /** Unique per connection: socket path suffix or vchan port name. */
  name: string;
}
