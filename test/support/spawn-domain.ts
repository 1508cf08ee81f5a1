/**
 * Run a TypeScript file as a separate OS process (a separate "domain" in multi-process tests).
 * The child resolves workspace packages from their sources, like vitest does, so tests never
 * depend on a stale build. Compiled (the real-Xen rig runs test/xen/.compiled/, see
 * test/xen/build-tests.sh), the same helpers spawn the compiled .js fixture with plain node.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const TS_NODE_ARGS: readonly string[] = ['--conditions=xenipc-source', '--import', 'tsx'];

export function spawnTs(file: string | URL, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  const nodeArgs = path.endsWith('.js') ? [] : TS_NODE_ARGS;
  return spawn(process.execPath, [...nodeArgs, path, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], ...options });
}

/** Runs spawnTs() to its end; resolves with its exit code and everything it wrote. */
export async function runTs(
  file: string | URL,
  args: readonly string[] = [],
  options: SpawnOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnTs(file, args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

/**
 * The fixture `name` ('domain.fixture.ts') beside the module at `base` (its import.meta.url):
 * the .ts source, or its compiled .js when `base` is itself compiled.
 */
export function fixtureBeside(name: string, base: string): URL {
  return new URL(base.endsWith('.js') ? name.replace(/\.ts$/, '.js') : name, base);
}
