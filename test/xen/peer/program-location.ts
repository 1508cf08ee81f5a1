/**
 * Where our own programs run from in the rig. `pnpm test:xen` compiles test/xen (and what it
 * imports) to JavaScript on the host (test/xen/build-tests.sh -> test/xen/.compiled/, mirroring
 * the repo's layout) and runs that in both domains, workspace packages from their dist/: nothing
 * is transformed from TypeScript under QEMU's TCG. Run from source instead (vitest or tsx on the
 * host, e.g. while editing), the same helpers start programs from their TypeScript sources.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TS_NODE_ARGS } from '../../support/spawn-domain.js';

/** The compiled tree, relative to the project dir. */
export const COMPILED_DIR = 'test/xen/.compiled';

/** True when this module is the compiled JavaScript (then so is everything around it). */
export const runningCompiled = import.meta.url.endsWith('.js');

/**
 * `node` arguments that run a program of this repo given by its TypeScript source: a path
 * relative to the project dir, or a URL made from `import.meta.url` (which, compiled, points
 * into the compiled tree already).
 */
export function nodeArgsFor(source: string | URL): string[] {
  if (source instanceof URL) {
    const path = fileURLToPath(source);
    return runningCompiled ? [path.replace(/\.ts$/, '.js')] : [...TS_NODE_ARGS, path];
  }
  return runningCompiled ? [`${COMPILED_DIR}/${source.replace(/\.ts$/, '.js')}`] : [...TS_NODE_ARGS, source];
}

/** Spawns a TypeScript program of this repo as its own process (see nodeArgsFor). */
export function spawnProgram(source: string | URL, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [...nodeArgsFor(source), ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], ...options });
}
