/**
 * RpcPeer over a vchan: @xenipc/rpc's channel transport (one msgpack-rpc message per
 * MessageChannel frame), created in the same tick as the channel, as ChannelTransport requires.
 */
import { MessageChannel, type VchanEndpoint } from '@xenipc/channel';
import { createChannelPeer } from '@xenipc/rpc';
import { RpcPeerEndpoint } from './rpc-endpoint.js';

export function rpcOverVchan(endpoint: VchanEndpoint): RpcPeerEndpoint {
  const channel = new MessageChannel(endpoint);
  return new RpcPeerEndpoint(createChannelPeer(channel, { timeoutMs: 0 }), () => channel.close());
}
