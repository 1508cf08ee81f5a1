/**
 * Run the `xenipc` command as its own OS process, from the TypeScript sources (like every
 * multi-process test), and collect its exit code and output.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnTs } from '../../support/spawn-domain.js';

export const XENIPC_BIN = fileURLToPath(new URL('../../../packages/cli/bin/xenipc.js', import.meta.url));

export interface XenipcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Start `xenipc <args>` with piped stdio. */
export function spawnXenipc(args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawnTs(XENIPC_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
}

/** Collect everything a started xenipc process prints, until it exits. */
export function collect(child: ChildProcess): Promise<XenipcResult> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() }));
  });
}

/** Run `xenipc <args>` to completion with `input` on stdin. */
export async function runXenipc(args: readonly string[], options: SpawnOptions & { input?: string | Buffer } = {}): Promise<XenipcResult> {
  const { input, ...spawnOptions } = options;
  const child = spawnXenipc(args, spawnOptions);
  const result = collect(child);
  child.stdin?.end(input ?? '');
  return result;
}
