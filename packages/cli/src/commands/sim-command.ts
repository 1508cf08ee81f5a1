/**
 * `xenipc sim`: a simulated Xen host in the foreground, so that `xenipc listen`/`connect`/`proxy`
 * in other terminals (each process one domain) can talk without Xen.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSimulatedHost } from '@xenipc/sim';
import type { CliContext, Command } from '../cli-context.js';
import { ExitCode } from '../exit-codes.js';
import { HELP_OPTION, parseCommandLine } from '../parse-command-line.js';
import { UsageError } from '../usage-error.js';

const HELP = `Usage: xenipc sim [--dir <dir>]

Runs a simulated Xen host until Ctrl-C. Processes that join it are domains of that host and can
open channels to each other with --backend sim, exactly as domains do on real Xen.

Prints the host's directory on stdout (nothing else goes to stdout), and on stderr how to point
other shells at it:
  export XENIPC_SIM_DIR=<dir>
  xenipc listen 2 demo --domid 1          # terminal 2: domain 1 waits for domain 2
  xenipc connect 1 demo --domid 2         # terminal 3: domain 2 connects to domain 1

Options:
  --dir <dir>   where the host lives (default: a fresh temp dir, removed on exit)
  -h, --help    this text`;

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export const simCommand: Command = {
  name: 'sim',
  summary: 'run a simulated Xen host in the foreground (for trying xenipc without Xen)',
  help: HELP,
  async run(args: readonly string[], context: CliContext): Promise<number> {
    const { values, positionals } = parseCommandLine(args, { options: { ...HELP_OPTION, dir: { type: 'string' } } });
    if (values.help) {
      context.stdout.write(`${HELP}\n`);
      return ExitCode.ok;
    }
    if (positionals.length > 0) throw new UsageError(`sim takes no arguments, got ${positionals.join(' ')}`);
    const ownDir = values.dir === undefined;
    const dir = ownDir ? await mkdtemp(join(tmpdir(), 'xenipc-sim-')) : resolve(values.dir as string);
    try {
      const host = await startSimulatedHost({ dir });
      context.stdout.write(`${dir}\n`);
      context.stderr.write(
        `xenipc sim: simulated Xen host running in ${dir}\n` +
          `  in other shells:  export XENIPC_SIM_DIR=${dir}\n` +
          `  then, e.g.:       xenipc listen 2 demo --domid 1   |   xenipc connect 1 demo --domid 2\n` +
          `  Ctrl-C stops the host.\n`,
      );
      await waitForAbort(context.signal);
      await host.close();
      context.stderr.write('xenipc sim: stopped\n');
      return ExitCode.ok;
    } finally {
      if (ownDir) await rm(dir, { recursive: true, force: true });
    }
  },
};
