/**
 * RpcPeer over a vchan. Uses @xenipc/rpc's channel transport when the package has one (one
 * message per frame); until then, the vchan as a Node Duplex (VchanStream) with the stream
 * transport, which is what a user could do today.
 */
import { MessageChannel, VchanStream, type VchanEndpoint } from '@xenipc/channel';
import * as rpc from '@xenipc/rpc';
import { RpcPeerEndpoint } from './rpc-endpoint.js';

interface ChannelTransportModule {
  ChannelTransport?: new (channel: MessageChannel) => ConstructorParameters<typeof rpc.RpcPeer>[0];
}

export function rpcOverVchan(endpoint: VchanEndpoint): RpcPeerEndpoint {
  const ChannelTransport = (rpc as ChannelTransportModule).ChannelTransport;
  if (ChannelTransport !== undefined) {
    const channel = new MessageChannel(endpoint);
    return new RpcPeerEndpoint(new rpc.RpcPeer(new ChannelTransport(channel), { timeoutMs: 0 }), () => channel.close());
  }
  const stream = new VchanStream(endpoint);
  return new RpcPeerEndpoint(rpc.createStreamPeer(stream, { timeoutMs: 0 }), () => endpoint.close());
}

/** Which transport rpcOverVchan uses, for the results notes. */
export function rpcVchanTransportName(): string {
  return (rpc as ChannelTransportModule).ChannelTransport !== undefined ? 'ChannelTransport over MessageChannel' : 'StreamTransport over VchanStream';
}
