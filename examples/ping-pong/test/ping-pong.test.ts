/**
 * The ping-pong example end to end: two processes (two domains) on a simulated host, started by
 * the example itself, and the two roles started separately as on real Xen.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startSimulatedHost } from '@xenipc/sim';
import { describe, expect, it } from 'vitest';
import { parseMicros, parseReportLine } from '../src/run-report.js';
import { spawnTs } from '../../../test/support/spawn-domain.js';

const MAIN = new URL('../src/main.ts', import.meta.url);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function finish(child: ChildProcess): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return finish(spawnTs(MAIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env }));
}

function checkPhaseLine(line: string, phase: string, count: number): void {
  expect(line.startsWith(phase)).toBe(true);
  const f = parseReportLine(line);
  expect(Number(f['count'])).toBe(count);
  const p50 = parseMicros(f['p50']);
  const p99 = parseMicros(f['p99']);
  const max = parseMicros(f['max']);
  expect(p50).toBeGreaterThan(0);
  expect(p50).toBeLessThanOrEqual(p99);
  expect(p99).toBeLessThanOrEqual(max);
  expect(Number(f['round-trips/s'])).toBeGreaterThan(0);
  expect(Number(/^(\d+)msg\/s$/.exec(f['throughput'] ?? '')?.[1])).toBeGreaterThan(0);
  expect(Number(f['pipelined'])).toBe(count);
}

describe('examples/ping-pong', () => {
  it('runs both domains as two processes on a private simulated host and reports both phases', { timeout: 60_000 }, async () => {
    const { code, stdout, stderr } = await run(['--count', '300', '--warmup', '10', '--size', '100', '--ring-size', '4096', '--window', '8']);
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    const setup = parseReportLine(lines[0] as string);
    expect(setup).toMatchObject({ backend: 'sim', 'server-domid': '1', 'client-domid': '2', 'ring-size': '4096', size: '100', count: '300', warmup: '10', window: '8' });
    checkPhaseLine(lines[1] as string, 'channel', 300);
    checkPhaseLine(lines[2] as string, 'rpc', 300);
    // The server saw every message: warm-up + timed + pipelined.
    expect(stderr).toContain('server: channel phase done, 610 messages echoed');
    expect(stderr).toContain('server: rpc phase done, 610 messages echoed');
    // The private host directory is gone.
    const dir = /simulated host in (\S+);/.exec(stderr)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir as string)).toBe(false);
  });

  it('prints the same results as JSON with --json', { timeout: 60_000 }, async () => {
    const { code, stdout } = await run(['--count', '50', '--warmup', '0', '--phases', 'channel', '--json', '--size', '0']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { setup: { count: number; size: number }; phases: Array<{ phase: string; latency: { count: number; p50: number } }> };
    expect(report.setup).toMatchObject({ count: 50, size: 0 });
    expect(report.phases.map((p) => p.phase)).toEqual(['channel']);
    expect(report.phases[0]?.latency.count).toBe(50);
  });

  it('runs the two roles as separate commands, as on real Xen (server and client meet through xenstore)', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xenipc-pp-roles-'));
    const host = await startSimulatedHost({ dir });
    try {
      const env = { ...process.env, XENIPC_SIM_DIR: dir };
      // Client first: it waits for the server to publish its channel.
      const client = run(['--role', 'client', '--backend', 'sim', '--domid', '8', '--peer', '7', '--count', '100', '--warmup', '0'], env);
      const server = run(['--role', 'server', '--backend', 'sim', '--domid', '7', '--peer', '8', '--count', '100', '--warmup', '0'], env);
      const [c, s] = await Promise.all([client, server]);
      expect(c.code, c.stderr).toBe(0);
      expect(s.code, s.stderr).toBe(0);
      const lines = c.stdout.trim().split('\n');
      expect(parseReportLine(lines[0] as string)).toMatchObject({ 'server-domid': '7', 'client-domid': '8' });
      checkPhaseLine(lines[1] as string, 'channel', 100);
      checkPhaseLine(lines[2] as string, 'rpc', 100);
    } finally {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 on bad options and 1 when the client cannot reach the server', { timeout: 30_000 }, async () => {
    const bad = await run(['--ring-size', '3000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--ring-size must be a power of two');

    const dir = await mkdtemp(join(tmpdir(), 'xenipc-pp-alone-'));
    const host = await startSimulatedHost({ dir });
    try {
      const lonely = await run(['--role', 'client', '--backend', 'sim', '--peer', '3', '--connect-timeout', '300'], { ...process.env, XENIPC_SIM_DIR: dir });
      expect(lonely.code).toBe(1);
      expect(lonely.stderr).toMatch(/ping-pong client: no vchan server appeared .* within 300 ms/);
    } finally {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops both domains and removes the host directory on SIGINT', { timeout: 60_000 }, async () => {
    const child = spawnTs(MAIN, ['--count', '100000000', '--warmup', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const result = finish(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Wait until the long run shows progress, i.e. both domains are busy.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (stderr.includes('channel ping-pong:')) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
      child.once('close', () => {
        clearInterval(timer);
        reject(new Error(`exited early: ${stderr}`));
      });
    });
    child.kill('SIGINT');
    const { code } = await result;
    expect(code).toBe(130);
    const dir = /simulated host in (\S+);/.exec(stderr)?.[1];
    expect(existsSync(dir as string)).toBe(false);
  });
});
