/**
 * `xenipc proxy`: vchan-socket-proxy's job, bridging a channel to a Unix or TCP socket.
 *
 *   xenipc proxy listen <domid> <port> --to <address>
 *       serve channel <port> to domain <domid>; each time it connects, open a connection to
 *       <address> and bridge the two. Serves one peer connection at a time, again and again
 *       (until Ctrl-C, or once with --once). Put this where the service runs.
 *
 *   xenipc proxy connect <domid> <port> --from <address>
 *       listen on <address>; for each client that connects there, connect channel <port> of
 *       domain <domid> and bridge the two. Clients are served one after another, since one
 *       channel carries one connection. Put this where the clients are.
 *
 * <address> is unix:/path/to.sock or tcp:[host:]port.
 */
import type { Duplex } from 'node:stream';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import type { XenBackend } from '@xenipc/core';
import type { BackendChoice } from '@xenipc/sim';
import { BACKEND_HELP, chooseBackend, describeBackend, openBackend } from '../backend-options.js';
import { acceptChannelStream, connectChannelStream, PORT_HELP, type ChannelEndpoint } from '../channel-endpoints.js';
import type { CliContext, Command } from '../cli-context.js';
import { ExitCode } from '../exit-codes.js';
import { expectPositionals, HELP_OPTION, parseCommandLine, parseInteger } from '../parse-command-line.js';
import { describeError } from '../describe-error.js';
import { ChannelClosedError } from '@xenipc/channel';
import { channelEndMessage } from '../channel-end-message.js';
import { HostLossWatch } from '../host-loss-watch.js';
import { formatSocketAddress, parseSocketAddress, type SocketAddress } from '../socket-address.js';
import { bridgeStreams } from '../streams/bridge-streams.js';
import { UsageError } from '../usage-error.js';
import { requireSimulatedHost } from '../require-sim-host.js';
import { assertSocketPathFree, OwnedSocketFile } from '../unix-socket-file.js';

const HELP = `Usage:
  xenipc proxy listen <domid> <port> --to <address> [--once]
  xenipc proxy connect <domid> <port> --from <address>

Bridges a channel to a socket (what vchan-socket-proxy does for libxenvchan).

  listen   serve channel <port> to domain <domid>; for each connection from it, connect to
           <address> and copy bytes both ways. One connection at a time, repeatedly.
  connect  listen on <address>; for each client there, connect to channel <port> of domain
           <domid> (which runs \`proxy listen\`) and copy bytes both ways, one client at a time.

<address>: unix:/path/to.sock or tcp:[host:]port (host defaults to 127.0.0.1).
Example, a web server in domain 5 reached from domain 7 at localhost:8080:
  domain 5:  xenipc proxy listen 7 web --to tcp:127.0.0.1:80
  domain 7:  xenipc proxy connect 5 web --from tcp:8080

Arguments:
  <domid>            the peer domain
${PORT_HELP}

Options:
  --to <address>     (listen) where to forward each channel connection
  --from <address>   (connect) where to accept socket clients
  --once             (listen) stop after the first connection
  --timeout <ms>     (connect) keep retrying to reach the listener for this long (default 10000)
${BACKEND_HELP}
  -q, --quiet        no status lines on stderr
  -h, --help         this text

Exit status: 0 after --once or Ctrl-C, 1 on failure, 2 on a bad command line.`;

function connectSocket(address: SocketAddress): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = address.kind === 'unix' ? netConnect(address.path) : netConnect(address.port, address.host);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Listen on `address`; a Unix socket path must be free (nothing is ever removed to make room). */
async function listenSocket(address: SocketAddress): Promise<{ server: Server; socketFile: OwnedSocketFile | undefined }> {
  if (address.kind === 'unix') await assertSocketPathFree(address.path);
  const server = createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const onListening = () => {
      server.off('error', reject);
      resolve();
    };
    if (address.kind === 'unix') server.listen(address.path, onListening);
    else server.listen(address.port, address.host, onListening);
  });
  return { server, socketFile: address.kind === 'unix' ? await OwnedSocketFile.claim(address.path) : undefined };
}

/** Why a bridged connection failed; a channel ended by the host's death says so. */
async function describeBridgeFailure(err: unknown, backend: XenBackend, hostKind: BackendChoice['kind']): Promise<string> {
  if (!ChannelClosedError.is(err)) return describeError(err);
  const watch = new HostLossWatch(backend);
  try {
    return channelEndMessage(err.reason, hostKind, await watch.hostGone());
  } finally {
    watch.dispose();
  }
}

async function proxyListen(backend: XenBackend, hostKind: BackendChoice['kind'], endpoint: ChannelEndpoint, to: SocketAddress, once: boolean, context: CliContext, log: (line: string) => void): Promise<number> {
  for (;;) {
    let channel: Duplex;
    try {
      channel = await acceptChannelStream(backend, endpoint, context.signal, () => log(`listening for domain ${endpoint.peer} on ${endpoint.port}`));
    } catch (err) {
      if (context.signal.aborted) return ExitCode.ok; // Ctrl-C while idle: a normal stop
      throw err;
    }
    log(`domain ${endpoint.peer} connected; forwarding to ${formatSocketAddress(to)}`);
    let socket: Socket;
    try {
      socket = await connectSocket(to);
    } catch (err) {
      channel.destroy();
      log(`cannot reach ${formatSocketAddress(to)}: ${describeError(err)}`);
      if (once) return ExitCode.failure;
      continue;
    }
    try {
      await bridgeStreams(channel, socket, context.signal);
      log('connection finished');
    } catch (err) {
      if (context.signal.aborted) return ExitCode.ok;
      log(`connection failed: ${await describeBridgeFailure(err, backend, hostKind)}`);
      if (once) return ExitCode.failure;
    }
    if (once) return ExitCode.ok;
  }
}

async function proxyConnect(backend: XenBackend, hostKind: BackendChoice['kind'], endpoint: ChannelEndpoint, from: SocketAddress, timeoutMs: number, context: CliContext, log: (line: string) => void): Promise<number> {
  const { server, socketFile } = await listenSocket(from);
  log(`accepting on ${formatSocketAddress(from)}; each client goes to channel ${endpoint.port} of domain ${endpoint.peer}`);
  // One channel carries one connection: clients queue here and are served in turn.
  let queue: Promise<void> = Promise.resolve();
  const serve = async (socket: Socket) => {
    if (context.signal.aborted) return void socket.destroy();
    try {
      const channel = await connectChannelStream(backend, endpoint, context.signal, timeoutMs);
      socket.resume();
      await bridgeStreams(channel, socket, context.signal);
      log('connection finished');
    } catch (err) {
      socket.destroy();
      if (!context.signal.aborted) log(`connection failed: ${await describeBridgeFailure(err, backend, hostKind)}`);
    }
  };
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined); // reported through bridgeStreams
    queue = queue.then(() => serve(socket));
  });
  await new Promise<void>((resolve) => {
    if (context.signal.aborted) resolve();
    else context.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // Node removes a Unix socket's path when its server closes, whatever is there by then: if the
  // path is no longer our socket, leave the server to the process's exit instead of closing it.
  if (socketFile === undefined || (await socketFile.isStillOurs())) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await socketFile?.remove();
  } else {
    log(`${socketFile.path} is no longer the socket we created; leaving it alone`);
    server.unref();
  }
  await queue;
  return ExitCode.ok;
}

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'bridge a channel to a Unix or TCP socket (like vchan-socket-proxy)',
  help: HELP,
  async run(args: readonly string[], context: CliContext): Promise<number> {
    const { values, positionals } = parseCommandLine(args, {
      options: {
        ...HELP_OPTION,
        to: { type: 'string' },
        from: { type: 'string' },
        once: { type: 'boolean' },
        timeout: { type: 'string' },
        backend: { type: 'string' },
        'sim-dir': { type: 'string' },
        domid: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
      },
    });
    if (values.help) {
      context.stdout.write(`${HELP}\n`);
      return ExitCode.ok;
    }
    const [mode, domidText, port] = expectPositionals(positionals, ['listen|connect', 'domid', 'port']);
    if (mode !== 'listen' && mode !== 'connect') throw new UsageError(`the first argument must be listen or connect, got ${JSON.stringify(mode)}`);
    if (mode === 'listen' && (values.to === undefined || values.from !== undefined)) throw new UsageError('proxy listen needs --to <address> (and no --from)');
    if (mode === 'connect' && (values.from === undefined || values.to !== undefined || values.once)) {
      throw new UsageError('proxy connect needs --from <address> (and no --to or --once)');
    }
    const address = mode === 'listen' ? parseSocketAddress(values.to as string, '--to') : parseSocketAddress(values.from as string, '--from');
    const peer = parseInteger(domidText, '<domid>', { max: 0x7fef });
    const ownDomid = values.domid === undefined ? undefined : parseInteger(values.domid, '--domid', { max: 0x7fef });
    const timeoutMs = values.timeout === undefined ? 10_000 : parseInteger(values.timeout, '--timeout', { max: 3_600_000 });
    const choice = chooseBackend({ backend: values.backend, 'sim-dir': values['sim-dir'], domid: ownDomid }, context.env);
    const log = (line: string) => values.quiet || context.stderr.write(`xenipc proxy: ${line}\n`);

    requireSimulatedHost(choice);
    const backend = await openBackend(choice);
    try {
      log(describeBackend(backend, choice));
      const endpoint: ChannelEndpoint = { peer, port: port as string };
      return mode === 'listen'
        ? await proxyListen(backend, choice.kind, endpoint, address, values.once ?? false, context, log)
        : await proxyConnect(backend, choice.kind, endpoint, address, timeoutMs, context, log);
    } finally {
      await backend.close();
    }
  },
};
