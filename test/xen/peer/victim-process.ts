/** Starts unmap-victim.ts as a separate process and waits for its VictimReady line. */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { spawnProgram } from './program-location.js';
import type { VictimPlan, VictimReady } from './agent-protocol.js';

export interface Victim {
  child: ChildProcess;
  ready: VictimReady;
  /** Resolves with the signal that ended it. */
  exited: Promise<NodeJS.Signals | null>;
}

export function startVictim(plan: VictimPlan, timeoutMs = 120_000): Promise<Victim> {
  const child = spawnProgram(new URL('./unmap-victim.ts', import.meta.url), [JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`victim not ready after ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, ready: JSON.parse(line) as VictimReady, exited });
    });
    void exited.then((signal) => {
      clearTimeout(timer);
      reject(new Error(`victim exited before it was ready (signal ${signal}): ${stderr.trim()}`));
    });
  });
}
