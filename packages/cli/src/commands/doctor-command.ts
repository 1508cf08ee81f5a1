import type { CliContext, Command } from '../cli-context.js';
import { runDoctorChecks, type CheckStatus, type DoctorReport } from '../doctor/doctor-checks.js';
import { HostRoot } from '../doctor/host-root.js';
import { ExitCode } from '../exit-codes.js';
import { HELP_OPTION, parseCommandLine, parseInteger } from '../parse-command-line.js';
import { UsageError } from '../usage-error.js';

const HELP = `Usage: xenipc doctor [--json] [--timeout <ms>] [--root <dir>]

Checks that this domain can run xenipc over real Xen: that it is a Xen domain, that the
gntalloc/gntdev/evtchn drivers are loaded and their /dev/xen devices open, the gntalloc page
limit, and that xenstore answers. Prints the command that fixes each missing piece.

Options:
  --json            print the report as JSON
  --timeout <ms>    how long to wait for xenstore (default 2000)
  --root <dir>      look for /proc, /sys, /dev below <dir> (tests); env XENIPC_HOST_ROOT
  -h, --help        this text

Exit status: 0 when everything is present, 1 when something is missing (or this is not Xen).`;

const LABEL: Record<CheckStatus, string> = { ok: 'ok', missing: 'MISSING', warning: 'warning' };

export function formatDoctorReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = report.checks.map((check) => {
    const line = `  ${LABEL[check.status].padEnd(8)} ${check.name.padEnd(width)}  ${check.detail}`;
    return check.fix ? `${line}\n  ${''.padEnd(8)} ${''.padEnd(width)}  fix: ${check.fix}` : line;
  });
  return `xenipc doctor\n${lines.join('\n')}\n\n${report.explanation}\n`;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check that this domain has what real Xen needs, and how to fix what is missing',
  help: HELP,
  async run(args: readonly string[], context: CliContext): Promise<number> {
    const { values, positionals } = parseCommandLine(args, {
      options: { ...HELP_OPTION, json: { type: 'boolean' }, timeout: { type: 'string' }, root: { type: 'string' } },
    });
    if (values.help) {
      context.stdout.write(`${HELP}\n`);
      return ExitCode.ok;
    }
    if (positionals.length > 0) throw new UsageError(`doctor takes no arguments, got ${positionals.join(' ')}`);
    const timeoutMs = values.timeout === undefined ? 2000 : parseInteger(values.timeout, '--timeout', { min: 1, max: 600_000 });
    const root = new HostRoot(values.root || context.env['XENIPC_HOST_ROOT'] || '/');
    const report = await runDoctorChecks({ root, env: context.env, xenstoreTimeoutMs: timeoutMs });
    context.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
    return report.problems === 0 ? ExitCode.ok : ExitCode.failure;
  },
};
