import type { Duplex } from 'node:stream';
import type { MessageChannel, VchanEndpoint } from '@xenipc/channel';
import { ChannelTransport, type ChannelTransportOptions } from '../transport/channel-transport.js';
import { StreamTransport, type StreamTransportOptions } from '../transport/stream-transport.js';
import { RpcPeer, type RpcPeerOptions } from './rpc-peer.js';

/** An RpcPeer over a connected Duplex (net.Socket over TCP or a Unix socket, ...). */
export function createStreamPeer(stream: Duplex, options: RpcPeerOptions & StreamTransportOptions = {}): RpcPeer {
  return new RpcPeer(new StreamTransport(stream, options), options);
}

/**
 * An RpcPeer over a vchan: given the endpoint, it opens the MessageChannel itself and decodes
 * received frames in place (fastest); given a MessageChannel, create both in the same tick (see
 * ChannelTransport).
 */
export function createChannelPeer(channel: MessageChannel | VchanEndpoint, options: RpcPeerOptions & ChannelTransportOptions = {}): RpcPeer {
  return new RpcPeer(new ChannelTransport(channel, options), options);
}
