/**
 * A process with a channel pair on a simulated host that the test then takes away (host.close():
 * every domain connection drops, as when the host process dies). Two domains live in this
 * process, one channel between them, both ends with a MessageChannel. Reports over IPC:
 * - {event: 'ready'} once the channel is open;
 * - {event: 'ended', reasons, iteratorError, sendError, resources} once both ends closed:
 *   the close reasons, what the iterator and trySend() threw, and the handles still keeping this
 *   process alive by Node's own count (process.getActiveResourcesInfo(), the IPC channel left out).
 * It does not call backend.close(): an application that lost its host need not, to exit.
 */
import { joinSimulatedHost } from '@xenipc/sim';
import { ChannelClosedError, MessageChannel, VchanClient, VchanServer } from '@xenipc/channel';

const dir = process.argv[2] ?? '';
const [a, b] = await Promise.all([joinSimulatedHost({ dir, autoStart: false }), joinSimulatedHost({ dir, autoStart: false })]);
const [server, client] = await Promise.all([
  VchanServer.listen(a, { peer: b.domid, port: 'host-loss' }),
  VchanClient.connect(b, { peer: a.domid, port: 'host-loss' }),
]);
const rx = new MessageChannel(server);
const tx = new MessageChannel(client);
const iterated = (async () => {
  for await (const _ of rx) {
    // nothing is sent
  }
  return 'ended without error';
})().catch((err: unknown) => (ChannelClosedError.is(err) ? `ChannelClosedError ${err.reason}` : String(err)));
const reasons = await Promise.all([
  new Promise((resolve) => {
    process.send?.({ event: 'ready' });
    rx.once('close', resolve);
  }),
  new Promise((resolve) => tx.once('close', resolve)),
]);
let sendError = 'none';
try {
  tx.trySend(new Uint8Array(1));
} catch (err) {
  sendError = ChannelClosedError.is(err) ? `ChannelClosedError ${err.reason}` : String(err);
}
const iteratorError = await iterated;
await Promise.all([rx.closed(), tx.closed()]);
const resources = process.getActiveResourcesInfo().filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap');
process.send?.({ event: 'ended', reasons, iteratorError, sendError, resources });
process.disconnect?.();
