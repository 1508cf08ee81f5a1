/**
 * Bench child: an RPC server ('add') over a vchan on the simulated host.
 * argv: sim dir, client domid, vchan port, mode ('endpoint': ChannelTransport opens the channel
 * with onFrame; 'channel': over a MessageChannel's 'message' events). Posts {domid} over IPC.
 */
import { joinSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanServer } from '@xenipc/channel';
import { ChannelTransport, RpcPeer } from '@xenipc/rpc';

const [dir, clientDomid, port, mode] = process.argv.slice(2) as [string, string, string, string];
const backend = await joinSimulatedHost({ dir, autoStart: false });
process.send?.({ domid: backend.domid });
const endpoint = await VchanServer.listen(backend, { peer: Number(clientDomid), port });
const peer = new RpcPeer(new ChannelTransport(mode === 'endpoint' ? endpoint : new MessageChannel(endpoint)));
peer.register('add', (a: number, b: number) => a + b);
peer.on('close', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
