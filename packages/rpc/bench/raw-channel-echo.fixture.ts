/** Bench child: echoes every MessageChannel message back (argv: sim dir, client domid, port). */
import { joinSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanServer } from '@xenipc/channel';

const [dir, clientDomid, port] = process.argv.slice(2) as [string, string, string];
const backend = await joinSimulatedHost({ dir, autoStart: false });
process.send?.({ domid: backend.domid });
const endpoint = await VchanServer.listen(backend, { peer: Number(clientDomid), port });
const channel: MessageChannel = new MessageChannel(endpoint, { onMessage: (m) => { if (!channel.trySend(m)) void channel.send(m); } });
channel.on('close', () => process.exit(0));
