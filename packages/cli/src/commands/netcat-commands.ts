/**
 * `xenipc listen <domid> <port>` and `xenipc connect <domid> <port>`: netcat over a channel.
 * stdin goes to the peer, the peer's bytes go to stdout. EOF on stdin closes our write side;
 * the peer closing ends stdout and the command (exit 0); a failure exits 1.
 */
import { BACKEND_HELP, chooseBackend, describeBackend, openBackend } from '../backend-options.js';
import { acceptChannelStream, checkRingSize, connectChannelStream, PORT_HELP } from '../channel-endpoints.js';
import type { CliContext, Command } from '../cli-context.js';
import { ExitCode } from '../exit-codes.js';
import { expectPositionals, HELP_OPTION, parseCommandLine, parseInteger } from '../parse-command-line.js';
import { pipeStdio } from '../streams/pipe-stdio.js';
import { UsageError } from '../usage-error.js';

type Side = 'listen' | 'connect';

function help(side: Side): string {
  const what =
    side === 'listen'
      ? 'Wait for domain <domid> to connect on channel <port>, then copy stdin to it and its bytes to stdout.'
      : 'Connect to the channel <port> that domain <domid> listens on, then copy stdin to it and its bytes to stdout.';
  return `Usage: xenipc ${side} <domid> <port> [options]

${what}
EOF on stdin closes the channel once every byte we sent is in it (vchan has no half-close:
the peer still reads all of it, then sees EOF). The peer closing ends stdout and the command.
A side that only receives should say -d, or its empty stdin would close the channel at once.

Arguments:
  <domid>            the peer domain
${PORT_HELP}

Options:
${BACKEND_HELP}${side === 'listen' ? '\n  --ring-size <bytes> size of each ring (a power of two; default 65536)' : '\n  --timeout <ms>     how long to wait for the listener to appear (default 5000)'}
  -d, --no-stdin     do not read stdin: only receive, until the peer closes
  -q, --quiet        no status lines on stderr
  -h, --help         this text

Exit status: 0 when the peer closed cleanly, 1 on failure, 2 on a bad command line.`;
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
      const choice = chooseBackend({ backend: values.backend, 'sim-dir': values['sim-dir'], domid: ownDomid }, context.env);
      if (side === 'connect' && values['ring-size'] !== undefined) throw new UsageError('--ring-size is chosen by the listener');
      if (side === 'listen' && values.timeout !== undefined) throw new UsageError('--timeout applies to connect; listen waits until Ctrl-C');
      const ringSize = values['ring-size'] === undefined ? undefined : checkRingSize(parseInteger(values['ring-size'], '--ring-size', { min: 1024, max: 1 << 24 }));
      const timeoutMs = values.timeout === undefined ? 5000 : parseInteger(values.timeout, '--timeout', { max: 3_600_000 });
      const log = (line: string) => values.quiet || context.stderr.write(`xenipc ${side}: ${line}\n`);

      const backend = await openBackend(choice);
      try {
        log(`${describeBackend(backend, choice)}`);
        const endpoint = { peer, port: port as string, ...(ringSize === undefined ? {} : { ringSize }) };
        const channel =
          side === 'listen'
            ? await acceptChannelStream(backend, endpoint, context.signal, () => log(`listening for domain ${peer} on ${port}`))
            : await connectChannelStream(backend, endpoint, context.signal, timeoutMs);
        log(`connected to domain ${peer}`);
        await pipeStdio(channel, values['no-stdin'] ? undefined : context.stdin, context.stdout, context.signal);
        log('channel closed');
        return ExitCode.ok;
      } finally {
        await backend.close();
      }
    },
  };
}

export const listenCommand = netcatCommand('listen');
export const connectCommand = netcatCommand('connect');
