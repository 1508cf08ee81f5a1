/**
 * RpcPeer over a vchan: @xenipc/rpc's channel transport (one msgpack-rpc message per channel
 * frame). Given the endpoint, the transport opens the MessageChannel itself with in-place
 * receive (frames decoded straight from the channel's frame buffer, no copy per message).
 */
import type { VchanEndpoint } from '@xenipc/channel';
import { createChannelPeer } from '@xenipc/rpc';
import { RpcPeerEndpoint } from './rpc-endpoint.js';

export function rpcOverVchan(endpoint: VchanEndpoint): RpcPeerEndpoint {
  const peer = createChannelPeer(endpoint, { timeoutMs: 0 });
  return new RpcPeerEndpoint(peer, async () => peer.close());
}
