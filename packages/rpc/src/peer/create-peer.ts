import type { Duplex } from 'node:stream';
import { StreamTransport, type StreamTransportOptions } from '../transport/stream-transport.js';
import { RpcPeer, type RpcPeerOptions } from './rpc-peer.js';

/** An RpcPeer over a connected Duplex (net.Socket over TCP or a Unix socket, ...). */
export function createStreamPeer(stream: Duplex, options: RpcPeerOptions & StreamTransportOptions = {}): RpcPeer {
  return new RpcPeer(new StreamTransport(stream, options), options);
}
