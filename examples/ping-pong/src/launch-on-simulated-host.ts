/**
 * `pnpm ping-pong` without --role: start a simulated Xen host in a private temp dir, run the
 * server and the client as two separate OS processes (two domains), pass the client's report
 * through, and clean everything up -- also on failure and on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulatedHost } from '@xenipc/sim';
import type { PingPongOptions } from './ping-pong-options.js';

const SERVER_DOMID = 1;
const CLIENT_DOMID = 2;
/** How long the server may take to start listening. */
const SERVER_READY_TIMEOUT_MS = 30_000;
/** How long the server may take to exit after the client finished. */
const SERVER_EXIT_TIMEOUT_MS = 10_000;

/** Arguments both children share: everything that shapes the run, none of the launcher's own. */
function sharedArgs(options: PingPongOptions, simDir: string): string[] {
  return [
    '--backend', 'sim',
    '--sim-dir', simDir,
    '--port', options.port,
    '--count', String(options.count),
    '--warmup', String(options.warmup),
    '--size', String(options.size),
    '--ring-size', String(options.ringSize),
    ...(options.spinMicros === undefined ? [] : ['--spin', String(options.spinMicros)]),
    '--window', String(options.window),
    '--phases', options.phases.join(','),
    '--connect-timeout', String(options.connectTimeoutMs),
    ...(options.json ? ['--json'] : []),
  ];
}

/** Run this same program (same node flags, so a source run stays a source run) as one domain. */
function spawnDomain(role: 'server' | 'client', domid: number, peer: number, args: string[]): ChildProcess {
  // main.ts under tsx (tests), main.js from dist: the same extension as this module.
  const self = fileURLToPath(new URL(`./main${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
  return spawn(process.execPath, [...process.execArgv, self, '--role', role, '--domid', String(domid), '--peer', String(peer), ...args], {
    stdio: ['ignore', role === 'client' ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function describeExit(role: string, exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal ? `${role} killed by ${exit.signal}` : `${role} exited with code ${exit.code}`;
}

/** Resolves once the server reports (over IPC) that it listens; rejects if it dies first. */
function serverReady(server: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not listening after ${SERVER_READY_TIMEOUT_MS} ms`)), SERVER_READY_TIMEOUT_MS);
    server.on('message', (message: unknown) => {
      if ((message as { ready?: boolean } | null)?.ready === true) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${describeExit('server', { code, signal })} before listening`));
    });
  });
}

export async function launchOnSimulatedHost(options: PingPongOptions): Promise<number> {
  const simDir = await mkdtemp(join(tmpdir(), 'xenipc-ping-pong-'));
  const host = await startSimulatedHost({ dir: simDir });
  const children: ChildProcess[] = [];
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    for (const child of children) child.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    process.stderr.write(`ping-pong: simulated host in ${simDir}; server = domain ${SERVER_DOMID}, client = domain ${CLIENT_DOMID}\n`);
    const args = sharedArgs(options, simDir);
    const server = spawnDomain('server', SERVER_DOMID, CLIENT_DOMID, args);
    children.push(server);
    await serverReady(server);
    const client = spawnDomain('client', CLIENT_DOMID, SERVER_DOMID, args);
    children.push(client);

    const clientExit = await exitOf(client);
    const serverExit = await Promise.race([
      exitOf(server),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), SERVER_EXIT_TIMEOUT_MS).unref()),
    ]);
    if (interrupted) return 130;
    if (clientExit.code !== 0) {
      process.stderr.write(`ping-pong: ${describeExit('client', clientExit)}\n`);
      return 1;
    }
    if (serverExit === undefined) {
      process.stderr.write(`ping-pong: server still running ${SERVER_EXIT_TIMEOUT_MS} ms after the client finished\n`);
      return 1;
    }
    if (serverExit.code !== 0) {
      process.stderr.write(`ping-pong: ${describeExit('server', serverExit)}\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    if (interrupted) return 130;
    process.stderr.write(`ping-pong: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map(exitOf));
    await host.close();
    await rm(simDir, { recursive: true, force: true });
  }
}
