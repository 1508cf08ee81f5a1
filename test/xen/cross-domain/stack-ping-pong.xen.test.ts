/**
 * The ping-pong example (examples/ping-pong, `--backend xen --role server|client --peer <domid>`)
 * across real domains: server in dom0 and client in the domU, then the other way round, so our
 * vchan server, vchan client, MessageChannel and RPC each run in both domains. Asserts both exit
 * 0, the client's report parses with the expected counts, and the server echoed every message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMicros, parseReportLine } from '../../../examples/ping-pong/src/run-report.js';
import { AgentProcess } from '../peer/agent-process.js';
import type { ProcessResult } from '../peer/agent-protocol.js';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { pingPong, type CommandLine } from '../peer/stack-commands.js';

const COUNT = 200;
const WARMUP = 20;
const WINDOW = 8;
/** Every phase's server echoes warm-up + timed + pipelined messages. */
const ECHOED = WARMUP + COUNT + COUNT;
/** Node + tsx start and ~2 x 420 round trips of milliseconds each, under TCG, with margin. */
const RUN_TIMEOUT_MS = 150_000;

function roleArgs(role: 'server' | 'client', peer: number, port: string): string[] {
  const common = ['--backend', 'xen', '--role', role, '--peer', String(peer), '--port', port];
  return role === 'server'
    ? [...common, '--ring-size', '4096']
    : [...common, '--count', String(COUNT), '--warmup', String(WARMUP), '--size', '100', '--window', String(WINDOW), '--connect-timeout', String(RUN_TIMEOUT_MS)];
}

function checkReport(stdout: string, serverDomid: number, clientDomid: number): void {
  const lines = stdout.trim().split('\n');
  expect(lines, stdout).toHaveLength(3);
  expect(parseReportLine(lines[0] as string)).toMatchObject({
    backend: 'xen', 'server-domid': String(serverDomid), 'client-domid': String(clientDomid),
    'ring-size': '4096', size: '100', count: String(COUNT), warmup: String(WARMUP), window: String(WINDOW),
  });
  for (const [index, phase] of ['channel', 'rpc'].entries()) {
    const line = lines[index + 1] as string;
    expect(line.startsWith(phase), line).toBe(true);
    const f = parseReportLine(line);
    expect(Number(f['count'])).toBe(COUNT);
    expect(Number(f['pipelined'])).toBe(COUNT);
    const [p50, p99, max] = [parseMicros(f['p50']), parseMicros(f['p99']), parseMicros(f['max'])];
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p99);
    expect(p99).toBeLessThanOrEqual(max);
    expect(Number(f['round-trips/s'])).toBeGreaterThan(0);
  }
}

function checkServer(result: ProcessResult): void {
  expect(result, 'server exit').toMatchObject({ code: 0, signal: null });
  expect(result.stderr).toContain(`server: channel phase done, ${ECHOED} messages echoed`);
  expect(result.stderr).toContain(`server: rpc phase done, ${ECHOED} messages echoed`);
}

function startInDom0(line: CommandLine): AgentProcess {
  return new AgentProcess(line.command, line.args, undefined, 0);
}

describe.skipIf(!runningInXen)('ping-pong example across dom0 and the domU (real Xen)', () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  it('server in dom0, client in the domU: both phases, every message echoed', { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const { agent, peer } = ends;
    const server = startInDom0(pingPong(roleArgs('server', peer, 'pp-dom0-serves')));
    const client = await agent.call('startProcess', { ...pingPong(roleArgs('client', 0, 'pp-dom0-serves')) });
    const clientResult = await agent.call('processResult', { handle: client.handle, timeoutMs: RUN_TIMEOUT_MS }, RUN_TIMEOUT_MS + 30_000);
    const serverResult = await server.result(30_000);
    console.log(`ping-pong, server dom0, client domU ${peer}:\n${clientResult.stdout}`);   // the cross-domain numbers, for the log
    expect(clientResult, `client in the domU: ${clientResult.stderr}`).toMatchObject({ code: 0, signal: null });
    checkReport(clientResult.stdout, 0, peer);
    checkServer(serverResult);
  });

  it('server in the domU, client in dom0: both phases, every message echoed', { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const { agent, peer } = ends;
    const server = await agent.call('startProcess', { ...pingPong(roleArgs('server', 0, 'pp-domu-serves')) });
    const client = startInDom0(pingPong(roleArgs('client', peer, 'pp-domu-serves')));
    const clientResult = await client.result(RUN_TIMEOUT_MS);
    const serverResult = await agent.call('processResult', { handle: server.handle, timeoutMs: 30_000 }, 60_000);
    console.log(`ping-pong, server domU ${peer}, client dom0:\n${clientResult.stdout}`);
    expect(clientResult, `client in dom0: ${clientResult.stderr}`).toMatchObject({ code: 0, signal: null });
    checkReport(clientResult.stdout, peer, 0);
    checkServer(serverResult);
  });
});
