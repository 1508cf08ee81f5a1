/**
 * The two-process set-up the probes in bench/tools share: a private simulated host in this
 * process, the probe script forked twice as its server and its client (each its own domain), the
 * server's domid handed to the client, and IPC messages relayed between them until the client
 * exits. The children get `[...args, 'server', dir]` and `[...args, 'client', dir, serverDomid]`;
 * each sends its domid as its first message.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulatedHost } from '@xenipc/sim';
import { pinProbeProcessesIfAsked } from './cpu-placement.js';

export interface ProbePairOptions {
  /** Relay the server's messages to the client too (the client's are always relayed to the server). */
  relayToClient: boolean;
  /** Honour PROBE_PIN (server on CPU 0, client on CPU 1). */
  pin: boolean;
}

export async function runProbePair(script: string, args: readonly string[], options: ProbePairOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'xenipc-probe-'));
  const host = await startSimulatedHost({ dir });
  const server = fork(script, [...args, 'server', dir], { execArgv: process.execArgv });
  const serverDomid = await new Promise<number>((resolve) => server.once('message', (m) => resolve(m as number)));
  const client = fork(script, [...args, 'client', dir, String(serverDomid)], { execArgv: process.execArgv });
  if (options.pin) pinProbeProcessesIfAsked(server, client);
  client.on('message', (m) => server.send(m));
  if (options.relayToClient) server.on('message', (m) => client.send(m));
  await new Promise((resolve) => client.once('exit', resolve));
  server.kill();
  await host.close();
  rmSync(dir, { recursive: true, force: true });
}
