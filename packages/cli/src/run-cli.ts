import type { CliContext, Command } from './cli-context.js';
import { doctorCommand } from './commands/doctor-command.js';
import { connectCommand, listenCommand } from './commands/netcat-commands.js';
import { proxyCommand } from './commands/proxy-command.js';
import { simCommand } from './commands/sim-command.js';
import { ExitCode } from './exit-codes.js';
import { describeError } from './describe-error.js';
import { InterruptedError } from './interrupted-error.js';
import { cliVersion } from './cli-version.js';
import { UsageError } from './usage-error.js';

const COMMANDS: readonly Command[] = [doctorCommand, listenCommand, connectCommand, proxyCommand, simCommand];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `Usage: xenipc <command> [options]

Shared-memory channels between Xen domains (or between processes on a simulated host).

Commands:
${list}

Run \`xenipc <command> --help\` for a command's options; \`xenipc --version\` prints the version.
Exit status: 0 success, 1 failure (including data not delivered), 2 bad command line,
130 / 143 interrupted by SIGINT / SIGTERM.`;
}

/** Run one command line with the given context; resolves to the exit code. Never throws. */
export async function runCommandLine(args: readonly string[], context: CliContext): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const out = name === undefined ? context.stderr : context.stdout;
    out.write(`${mainHelp()}\n`);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version' || name === '-V') {
    context.stdout.write(`xenipc ${cliVersion()}\n`);
    return ExitCode.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const what = name.startsWith('-') ? `unknown option ${JSON.stringify(name)}` : `unknown command ${JSON.stringify(name)}`;
    context.stderr.write(`xenipc: ${what} (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see \`xenipc --help\`)\n`);
    return ExitCode.usage;
  }
  try {
    return await command.run(rest, context);
  } catch (err) {
    if (err instanceof UsageError) {
      context.stderr.write(`xenipc ${command.name}: ${err.message} (see \`xenipc ${command.name} --help\`)\n`);
      return ExitCode.usage;
    }
    if (context.signal.aborted) return InterruptedError.exitCodeOf(context.signal.reason);
    context.stderr.write(`xenipc ${command.name}: ${describeError(err)}\n`);
    return ExitCode.failure;
  }
}

/**
 * The process entry point behind bin/xenipc.js: real stdio, real environment, SIGINT/SIGTERM
 * turned into an AbortSignal (reason: InterruptedError) so commands can clean up; the exit code
 * is then 128 + the signal's number. A second signal exits at once, with the same convention.
 */
export async function runCli(args: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(new InterruptedError(signal).exitCode);
    controller.abort(new InterruptedError(signal));
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
