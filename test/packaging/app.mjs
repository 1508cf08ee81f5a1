// A fresh app's use of the published packages (installed from their tarballs by
// check-packages.sh): a channel pair on a simulated host in this process, 100 messages, 100 RPC
// calls, then everything closed. Prints one JSON line; the process must then exit by itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, VchanClient, VchanServer } from '@xenipc/channel';
import { createChannelPeer } from '@xenipc/rpc';
import { joinSimulatedHost, startSimulatedHost } from '@xenipc/sim';

const dir = mkdtempSync(join(tmpdir(), 'xenipc-app-'));
const host = await startSimulatedHost({ dir });
const dom1 = await joinSimulatedHost({ dir, autoStart: false });
const dom2 = await joinSimulatedHost({ dir, autoStart: false });

async function pair(port) {
  return Promise.all([
    VchanServer.listen(dom1, { peer: dom2.domid, port }),
    VchanClient.connect(dom2, { peer: dom1.domid, port }),
  ]);
}

// 100 messages
const [server, client] = await pair('messages');
const rx = new MessageChannel(server);
const tx = new MessageChannel(client);
const received = [];
const done = new Promise((resolve) => rx.on('message', (m) => received.push(new TextDecoder().decode(m)) === 100 && resolve()));
for (let i = 0; i < 100; i++) await tx.send(new TextEncoder().encode(`message ${i}`));
await done;
const messagesOk = received.every((text, i) => text === `message ${i}`);

// 100 RPC calls
const [rpcServerEnd, rpcClientEnd] = await pair('rpc');
const serverPeer = createChannelPeer(rpcServerEnd);
serverPeer.register('add', (a, b) => a + b);
const clientPeer = createChannelPeer(rpcClientEnd);
let sum = 0;
for (let i = 0; i < 100; i++) sum += await clientPeer.call('add', i, 1);

tx.close();
rx.close();
clientPeer.close();
serverPeer.close();
await Promise.all([dom1.close(), dom2.close()]);
await host.close();
rmSync(dir, { recursive: true, force: true });
const closedAt = performance.now();
process.on('exit', () => {
  process.stdout.write(`${JSON.stringify({ messages: received.length, messagesOk, calls: 100, sum, exitMsAfterClose: Math.round(performance.now() - closedAt) })}\n`);
});
