/**
 * Ping-pong between two domains over a xenipc channel and over RPC, printing round-trip latency
 * and throughput. Without --role it runs both domains, as two processes, on a private simulated
 * host; with --role it is one of the two (one process in each domain on real Xen).
 */
import { describeError, UsageError } from '@xenipc/cli';
import { launchOnSimulatedHost } from './launch-on-simulated-host.js';
import { OptionsError, parsePingPongOptions, USAGE } from './ping-pong-options.js';
import { runClient } from './ping-pong-client.js';
import { runServer } from './ping-pong-server.js';

let role: string | undefined;

async function main(args: readonly string[]): Promise<number> {
  let options;
  try {
    options = parsePingPongOptions(args);
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    process.stderr.write(`ping-pong: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  role = options.role;
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.role === undefined) {
    if (options.backend === 'xen') {
      process.stderr.write('ping-pong: on Xen, run one side in each domain: --role server --peer <client domid> / --role client --peer <server domid>\n');
      return 2;
    }
    return launchOnSimulatedHost(options);
  }
  return options.role === 'server' ? runServer(options) : runClient(options);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A sentence for expected failures (XenError, closed channels); the stack with XENIPC_DEBUG=1.
    const detail = process.env['XENIPC_DEBUG'] && err instanceof Error ? (err.stack ?? '') : describeError(err);
    process.stderr.write(`ping-pong${role ? ` ${role}` : ''}: ${detail}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
