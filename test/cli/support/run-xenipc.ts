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
  const child = spawnTs(XENIPC_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  // A command that exits without reading all of stdin (usage errors, a killed peer) makes our
  // writes fail with EPIPE; that is expected, and the exit code tells the story.
  child.stdin?.on('error', () => undefined);
  return child;
}

export interface WatchedXenipc {
  child: ChildProcess;
  /** Resolves once stderr contains `text`; rejects if the process exits first. */
  stderrSays(text: string): Promise<void>;
  /** Same for stdout (when collected). */
  stdoutSays(text: string): Promise<void>;
  /** What it printed so far. */
  printed(where: 'stdout' | 'stderr'): string;
  /** Everything printed, once the process has exited. */
  result: Promise<XenipcResult>;
}

/** Collect what a started xenipc process prints (call before anything else reads its output). */
export function watch(child: ChildProcess, options: { stdout?: boolean } = {}): WatchedXenipc {
  const stdout: Buffer[] = [];
  let stderr = '';
  const waiters: Array<{ text: string; where: 'stdout' | 'stderr'; resolve: () => void }> = [];
  const printed = (where: 'stdout' | 'stderr') => (where === 'stderr' ? stderr : Buffer.concat(stdout).toString());
  const wake = () => {
    for (const w of waiters.splice(0)) if (printed(w.where).includes(w.text)) w.resolve();
    else waiters.push(w);
  };
  if (options.stdout !== false) {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      wake();
    });
  }
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    wake();
  });
  const says = (where: 'stdout' | 'stderr', text: string) =>
    new Promise<void>((resolve, reject) => {
      if (printed(where).includes(text)) return resolve();
      waiters.push({ text, where, resolve });
      void result.then((r) => reject(new Error(`xenipc exited (${r.code ?? r.signal}) without printing ${JSON.stringify(text)} on ${where}; stderr: ${r.stderr}`)));
    });
  const result = new Promise<XenipcResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(stdout), stderr }));
  });
  return {
    child,
    result,
    stderrSays: (text) => says('stderr', text),
    stdoutSays: (text) => says('stdout', text),
    printed,
  };
}

/** Collect everything a started xenipc process prints, until it exits. */
export function collect(child: ChildProcess): Promise<XenipcResult> {
  return watch(child).result;
}

/** Run `xenipc <args>` to completion with `input` on stdin. */
export async function runXenipc(args: readonly string[], options: SpawnOptions & { input?: string | Buffer } = {}): Promise<XenipcResult> {
  const { input, ...spawnOptions } = options;
  const child = spawnXenipc(args, spawnOptions);
  const result = collect(child);
  child.stdin?.end(input ?? '');
  return result;
}
