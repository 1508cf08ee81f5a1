/**
 * The server domain: publishes one channel per phase for the client domain and echoes until the
 * client closes it. Tells a launching parent (over IPC, if any) when the first channel is up.
 */
import type { VchanServer } from '@xenipc/channel';
import { publishChannel } from '@xenipc/cli';
import { chooseBackend, describeBackend, openBackend } from '@xenipc/sim';
import { exitOnSignal } from './exit-on-signal.js';
import { serveChannelPhase } from './channel-phase.js';
import { backendRequest, phasePort, type PingPongOptions } from './ping-pong-options.js';
import { serveRpcPhase } from './rpc-phase.js';

export async function runServer(options: PingPongOptions): Promise<number> {
  const peer = options.peer as number;
  const choice = chooseBackend(backendRequest(options), process.env);
  const backend = await openBackend(choice);
  const stop = new AbortController();
  const removeSignalHandlers = exitOnSignal(backend, stop);
  try {
    process.stderr.write(`server: ${describeBackend(backend, choice)}; serving domain ${peer}\n`);
    // Publish every phase's channel up front: the client may connect to each as soon as it likes.
    const servers: VchanServer[] = [];
    const spin = options.spinMicros === undefined ? {} : { spinMicros: options.spinMicros };
    for (const phase of options.phases) {
      servers.push(await publishChannel(backend, { peer, port: phasePort(options.port, phase), ringSize: options.ringSize, ...spin }));
    }
    process.send?.({ ready: true });
    for (const [index, phase] of options.phases.entries()) {
      const server = servers[index] as VchanServer;
      await server.whenConnected(undefined, stop.signal);
      const served = phase === 'channel' ? await serveChannelPhase(server) : await serveRpcPhase(server);
      await server.close();
      process.stderr.write(`server: ${phase} phase done, ${served} messages echoed\n`);
    }
    return 0;
  } finally {
    removeSignalHandlers();
    await backend.close();
  }
}
