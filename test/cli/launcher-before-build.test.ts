/**
 * bin/xenipc.js in a checkout that was installed but not built (no dist/): it runs the
 * TypeScript sources through tsx when it can, and otherwise says in one line to run
 * `pnpm build`, never an ERR_MODULE_NOT_FOUND stack trace.
 *
 * The unbuilt package is staged in a temp dir: its package.json and bin/ copied, src/ linked to
 * the real sources, no dist/; `@xenipc/cli` then resolves (by self-reference) to the missing
 * dist/index.js, exactly as in a fresh clone after `pnpm install`.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI_PACKAGE = fileURLToPath(new URL('../../packages/cli/', import.meta.url));
const TSX_PACKAGE = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));

function runNode(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bin/xenipc.js before `pnpm build`', () => {
  let root: string;
  let bin: string;
  let version: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'xenipc-unbuilt-'));
    const pkg = join(root, 'node_modules', '@xenipc', 'cli');
    await mkdir(pkg, { recursive: true });
    await cp(join(CLI_PACKAGE, 'package.json'), join(pkg, 'package.json'));
    await cp(join(CLI_PACKAGE, 'bin'), join(pkg, 'bin'), { recursive: true });
    await symlink(join(CLI_PACKAGE, 'src'), join(pkg, 'src'));
    bin = join(pkg, 'bin', 'xenipc.js');
    version = (JSON.parse(await readFile(join(CLI_PACKAGE, 'package.json'), 'utf8')) as { version: string }).version;
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('without tsx: one line saying to run pnpm build, exit 1', async () => {
    const result = await runNode(bin, ['--version']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('xenipc: this checkout is not built (no dist/): run `pnpm build` in the repository, then run xenipc again\n');
  });

  it('with tsx installed (as after pnpm install): runs from the sources', { timeout: 30_000 }, async () => {
    await symlink(TSX_PACKAGE, join(root, 'node_modules', 'tsx'));
    const result = await runNode(bin, ['--version']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`xenipc ${version}\n`);
    expect(result.code).toBe(0);
    const usage = await runNode(bin, ['listen', '--frob']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('xenipc listen: unknown option --frob (see `xenipc listen --help`)\n');
  });
});
