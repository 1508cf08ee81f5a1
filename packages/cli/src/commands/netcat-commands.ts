/**
 * `xenipc listen <domid> <port>` and `xenipc connect <domid> <port>`: netcat over a channel,
 * with delivery accounting (streams/netcat-session.ts): exit 0 only if every byte taken from
 * stdin was consumed by the peer and the channel ended cleanly.
 */
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RING_SIZE, type VchanEndpoint } from '@xenipc/channel';
import { BACKEND_HELP, chooseBackend, describeBackend, openBackend } from '../backend-options.js';
import { acceptChannel, checkRingSize, connectChannel, PORT_HELP, RING_SIZE_LIMITS } from '../channel-endpoints.js';
import { channelEndMessage } from '../channel-end-message.js';
import type { CliContext, Command } from '../cli-context.js';
import { CommandError } from '../command-error.js';
import { ExitCode } from '../exit-codes.js';
import { formatBytes } from '../format-bytes.js';
import { HostLossWatch } from '../host-loss-watch.js';
import { InterruptedError } from '../interrupted-error.js';
import { expectPositionals, HELP_OPTION, parseCommandLine, parseInteger } from '../parse-command-line.js';
import { requireSimulatedHost } from '../require-sim-host.js';
import { StatusLine } from '../status-line.js';
import { DeliveryTracker } from '../streams/delivery-tracker.js';
import { NetcatSession, type NetcatCounts, type NetcatResult } from '../streams/netcat-session.js';
import { UsageError } from '../usage-error.js';

type Side = 'listen' | 'connect';

/** connect's default wait for the listener (ms); shorter than the library's, for a command line. */
const CONNECT_TIMEOUT_MS = 5000;

function help(side: Side): string {
  const what =
    side === 'listen'
      ? 'Wait for domain <domid> to connect on channel <port>, then copy stdin to it and its bytes to stdout.'
      : 'Connect to the channel <port> that domain <domid> listens on, then copy stdin to it and its bytes to stdout.';
  const sideOption =
    side === 'listen'
      ? `  --ring-size <bytes> size of each ring: a power of two from ${RING_SIZE_LIMITS.min} to ${RING_SIZE_LIMITS.max} (default ${DEFAULT_RING_SIZE})`
      : `  --timeout <ms>     how long to wait for the listener to appear (default ${CONNECT_TIMEOUT_MS}; the library's is ${DEFAULT_CONNECT_TIMEOUT_MS})`;
  return `Usage: xenipc ${side} <domid> <port> [options]

${what}
When stdin ends we wait until the peer has read every byte we sent, then close the channel
(vchan has no half-close: this ends it for both sides). A side that only receives should say
-d, or its empty stdin would close the channel at once.

Arguments:
  <domid>            the peer domain
${PORT_HELP}

Options:
${BACKEND_HELP}
${sideOption}
  -d, --no-stdin     do not read stdin: only receive, until the peer closes
  -q, --quiet        no status or progress lines on stderr
  -h, --help         this text

Exit status: 0 when every byte of stdin was read by the peer and the channel ended cleanly;
1 when data was not delivered or the channel failed; 2 on a bad command line;
130 / 143 when interrupted by SIGINT / SIGTERM.`;
}

function describeCounts(counts: NetcatCounts, peer: number, sending: boolean): string {
  const sent = counts.taken === 0 ? 'sent nothing' : counts.delivered === counts.taken ? `sent ${formatBytes(counts.taken)} (all read by domain ${peer})` : `sent ${formatBytes(counts.delivered)} of ${formatBytes(counts.taken)} (read by domain ${peer})`;
  return sending ? `${sent}, received ${formatBytes(counts.received)}` : `received ${formatBytes(counts.received)}`;
}

/** What was lost, for a session that did not deliver all of stdin; undefined if it did. */
function undelivered(result: NetcatResult, peer: number): string | undefined {
  if (result.delivered >= result.taken && !result.unreadInput) return undefined;
  return `domain ${peer} read ${result.delivered} bytes of stdin (${formatBytes(result.delivered)}); the rest was not delivered`;
}

function netcatCommand(side: Side): Command {
  const text = help(side);
  return {
    name: side,
    summary: side === 'listen' ? 'wait for a peer domain and pipe stdin/stdout over the channel' : 'connect to a listening peer domain and pipe stdin/stdout',
    help: text,
    async run(args: readonly string[], context: CliContext): Promise<number> {
      const { values, positionals } = parseCommandLine(args, {
        options: {
          ...HELP_OPTION,
          backend: { type: 'string' },
          'sim-dir': { type: 'string' },
          domid: { type: 'string' },
          'ring-size': { type: 'string' },
          timeout: { type: 'string' },
          'no-stdin': { type: 'boolean', short: 'd' },
          quiet: { type: 'boolean', short: 'q' },
        },
      });
      if (values.help) {
        context.stdout.write(`${text}\n`);
        return ExitCode.ok;
      }
      const [domidText, port] = expectPositionals(positionals, ['domid', 'port']);
      const peer = parseInteger(domidText, '<domid>', { max: 0x7fef });
      const ownDomid = values.domid === undefined ? undefined : parseInteger(values.domid, '--domid', { max: 0x7fef });
      if (side === 'connect' && values['ring-size'] !== undefined) throw new UsageError('--ring-size is chosen by the listener');
      if (side === 'listen' && values.timeout !== undefined) throw new UsageError('--timeout applies to connect; listen waits until Ctrl-C');
      const ringSize = values['ring-size'] === undefined ? undefined : checkRingSize(parseInteger(values['ring-size'], '--ring-size', RING_SIZE_LIMITS));
      const timeoutMs = values.timeout === undefined ? CONNECT_TIMEOUT_MS : parseInteger(values.timeout, '--timeout', { max: 3_600_000 });
      const choice = chooseBackend({ backend: values.backend, 'sim-dir': values['sim-dir'], domid: ownDomid }, context.env);
      const status = new StatusLine(context.stderr, `xenipc ${side}`, values.quiet === true);
      const sending = !values['no-stdin'];
      requireSimulatedHost(choice);

      const backend = await openBackend(choice);
      const hostWatch = new HostLossWatch(backend);
      let endpoint: VchanEndpoint | undefined;
      try {
        status.say(describeBackend(backend, choice));
        const tracker = new DeliveryTracker(backend);
        const target = { peer, port: port as string, ...(ringSize === undefined ? {} : { ringSize }) };
        if (side === 'listen') {
          endpoint = await acceptChannel(tracker.backend, target, context.signal, () => status.say(`listening for domain ${peer} on ${port}`));
        } else {
          status.say(`waiting up to ${timeoutMs} ms for domain ${peer} to listen on ${port}`);
          endpoint = await connectChannel(tracker.backend, target, context.signal, timeoutMs);
        }
        tracker.attach(endpoint);
        status.say(`connected to domain ${peer}`);
        const session = new NetcatSession(endpoint, tracker, { input: sending ? context.stdin : undefined, output: context.stdout, signal: context.signal });
        status.startProgress(() => describeCounts(session.progress(), peer, sending));
        const result = await session.run().finally(() => status.stop());
        const counts = describeCounts(result, peer, sending);
        const missing = undelivered(result, peer);
        if (result.ending === 'interrupted') {
          status.say(`interrupted; ${counts}`);
          return InterruptedError.exitCodeOf(context.signal.reason);
        }
        if (result.ending === 'closed' || result.ending === 'peer-closed') {
          const who = result.ending === 'closed' ? 'closed the channel' : `domain ${peer} closed the channel`;
          if (missing !== undefined) throw new CommandError('EUNDELIVERED', `${who} early: ${missing}`);
          status.say(`${who}; ${counts}`);
          return ExitCode.ok;
        }
        const hostGone = await hostWatch.hostGone();
        const why = channelEndMessage(result.ending, choice.kind, hostGone);
        throw new CommandError(hostGone ? 'EHOSTDOWN' : 'ECHANNELCLOSED', `${why}; ${missing ?? counts}`);
      } finally {
        hostWatch.dispose();
        await endpoint?.close().catch(() => undefined);
        await backend.close();
      }
    },
  };
}

export const listenCommand = netcatCommand('listen');
export const connectCommand = netcatCommand('connect');
