/** The dispatcher in-process: help for every command, unknown commands, usage errors -> exit 2. */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCommandLine } from '../src/run-cli.js';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCommandLine(args, { env: {}, stdin: new PassThrough(), stdout, stderr, signal: new AbortController().signal });
  return { code, stdout: out, stderr: err };
}

describe('runCommandLine', () => {
  it.each(['doctor', 'listen', 'connect', 'proxy', 'sim'])('`xenipc %s --help` prints its usage and exits 0', async (command) => {
    const { code, stdout } = await run([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`Usage:\\s+xenipc ${command}`));
  });

  it('lists every command under --help, and exits 2 with the list when given none', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['doctor', 'listen', 'connect', 'proxy', 'sim']) expect(help.stdout).toContain(`  ${command}`);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: xenipc <command>');
  });

  it('exits 2 for an unknown command or option, naming it in one line', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('xenipc: unknown command "frobnicate" (commands: doctor, listen, connect, proxy, sim; see `xenipc --help`)\n');
    const option = await run(['listen', '1', 'p', '--bogus']);
    expect(option.code).toBe(2);
    expect(option.stderr).toBe('xenipc listen: unknown option --bogus (see `xenipc listen --help`)\n');
  });

  // Each bad flag: exit 2, exactly one line, our words (not node:util's advice with its unclosed quote).
  it.each([
    [['listen', '-1', 'demo'], 'unknown option -1 (negative numbers are not accepted here)'],
    [['connect', '1', 'demo', '--frob'], 'unknown option --frob'],
    [['listen', '1', 'demo', '-dx'], 'unknown option -x'],
    [['--frob'], 'unknown option "--frob"'],
    [['listen', '1', 'demo', '--backend'], '--backend needs a value'],
    [['listen', '1', 'demo', '--backend', '--quiet'], '--backend needs a value, got the option --quiet'],
    [['listen', '1', 'demo', '--quiet=3'], '--quiet takes no value, got "3"'],
    [['connect', '1', 'demo', '--timeout', '-5'], '--timeout must be an integer from 0 to 3600000, got "-5"'],
    [['listen', '1', 'demo', '--ring-size', String(2 * 1024 * 1024)], '--ring-size must be between 1024 and 1048576'],
    [['listen', '1', 'demo', '--ring-size', '512'], '--ring-size must be between 1024 and 1048576'],
    [['listen', '1', 'demo', '--ring-size', '3000'], '--ring-size must be a power of two'],
    [['sim', '--dir'], '--dir needs a value'],
    [['proxy', 'connect', '1', 'p', '--from'], '--from needs a value'],
    [['doctor', '--timeout', 'soon'], '--timeout must be an integer'],
  ])('`xenipc %j` is a one-line usage error', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/To specify a positional|Did you forget/);
  });

  it('prints the version from the package.json (--version), and accepts -V', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { code, stdout, stderr } = await run([flag]);
      expect(code).toBe(0);
      expect(stdout).toBe(`xenipc ${manifest.version}\n`);
      expect(stderr).toBe('');
    }
  });

  it('needs a simulated host when there is no Xen and no XENIPC_SIM_DIR (exit 2, with the fix)', async () => {
    const result = await run(['connect', '1', 'p', '--backend', 'sim']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('start one with `xenipc sim`');
  });
});
