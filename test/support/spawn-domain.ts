/**
 * Run a TypeScript file as a separate OS process (a separate "domain" in multi-process tests).
 * The child resolves workspace packages from their sources, like vitest does, so tests never
 * depend on a stale build.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const TS_NODE_ARGS: readonly string[] = ['--conditions=xenipc-source', '--import', 'tsx'];

export function spawnTs(file: string | URL, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  return spawn(process.execPath, [...TS_NODE_ARGS, path, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], ...options });
}
