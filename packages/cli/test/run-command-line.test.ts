/** The dispatcher in-process: help for every command, unknown commands, usage errors -> exit 2. */
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

  it('exits 2 for an unknown command or option, naming it', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const option = await run(['listen', '1', 'p', '--bogus']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--bogus'");
    expect(option.stderr).toContain('xenipc listen --help');
  });

  it('needs a simulated host when there is no Xen and no XENIPC_SIM_DIR (exit 2, with the fix)', async () => {
    const result = await run(['connect', '1', 'p', '--backend', 'sim']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('start one with `xenipc sim`');
  });
});
