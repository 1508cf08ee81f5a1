import type { CliContext, Command } from './cli-context.js';
import { doctorCommand } from './commands/doctor-command.js';
import { connectCommand, listenCommand } from './commands/netcat-commands.js';
import { proxyCommand } from './commands/proxy-command.js';
import { simCommand } from './commands/sim-command.js';
import { ExitCode } from './exit-codes.js';
import { describeError } from './describe-error.js';
import { UsageError } from './usage-error.js';

const COMMANDS: readonly Command[] = [doctorCommand, listenCommand, connectCommand, proxyCommand, simCommand];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `Usage: xenipc <command> [options]

Shared-memory channels between Xen domains (or between processes on a simulated host).

Commands:
${list}

Run \`xenipc <command> --help\` for a command's options.
Exit status: 0 success, 1 failure, 2 bad command line, 130 interrupted.`;
}

/** Run one command line with the given context; resolves to the exit code. Never throws. */
export async function runCommandLine(args: readonly string[], context: CliContext): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const out = name === undefined ? context.stderr : context.stdout;
    out.write(`${mainHelp()}\n`);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    context.stderr.write(`xenipc: unknown command ${JSON.stringify(name)}\n\n${mainHelp()}\n`);
    return ExitCode.usage;
  }
  try {
    return await command.run(rest, context);
  } catch (err) {
    if (err instanceof UsageError) {
      context.stderr.write(`xenipc ${command.name}: ${err.message}\nRun \`xenipc ${command.name} --help\` for usage.\n`);
      return ExitCode.usage;
    }
    if (context.signal.aborted) return ExitCode.interrupted;
    context.stderr.write(`xenipc ${command.name}: ${describeError(err)}\n`);
    return ExitCode.failure;
  }
}

/**
 * The process entry point behind bin/xenipc.js: real stdio, real environment, SIGINT/SIGTERM
 * turned into an AbortSignal so commands can clean up (a second signal exits at once).
 */
export async function runCli(args: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runCommandLine(args, {
      env: process.env,
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
