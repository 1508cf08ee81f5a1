/** Starts vchan-pump-program in this domain and follows what it reports (see there). */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { spawnProgram } from './program-location.js';

export type PumpEvent =
  | { event: 'connected'; readRingSize: number; writeRingSize: number }
  | { event: 'moved'; read: number; written: number }
  | { event: 'closed'; reason: string }
  | { event: 'released'; xenMappings: number };

export interface Pump {
  child: ChildProcess;
  events: PumpEvent[];
  /** Resolves with the first event (so far or later) that matches; rejects on exit or timeout. */
  waitFor<E extends PumpEvent>(match: (e: PumpEvent) => e is E, timeoutMs: number): Promise<E>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export function startPump(role: 'server' | 'client', peer: number, port: string, ringBytes?: number): Pump {
  const args = [role, String(peer), port, ...(ringBytes === undefined ? [] : [String(ringBytes)])];
  const child = spawnProgram(new URL('./vchan-pump-program.ts', import.meta.url), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: PumpEvent[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as PumpEvent);
    } catch {
      stderr += `unparsable line: ${line}\n`;
    }
    listeners.forEach((l) => l());
  });
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      exitInfo = { code, signal };
      listeners.forEach((l) => l());
      resolve(exitInfo);
    });
  });
  function waitFor<E extends PumpEvent>(match: (e: PumpEvent) => e is E, timeoutMs: number): Promise<E> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = events.find(match);
        if (found) finish(() => resolve(found));
        else if (exitInfo) finish(() => reject(new Error(`pump exited (${JSON.stringify(exitInfo)}) first; events ${JSON.stringify(events.slice(-3))}; stderr: ${stderr.slice(-800)}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`pump: no such event within ${timeoutMs} ms; events ${JSON.stringify(events.slice(-3))}; stderr: ${stderr.slice(-800)}`))), timeoutMs);
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        then();
      };
      listeners.add(check);
      check();
    });
  }
  return { child, events, waitFor, exited, stderr: () => stderr };
}

export const isConnected = (e: PumpEvent): e is Extract<PumpEvent, { event: 'connected' }> => e.event === 'connected';
export const isClosed = (e: PumpEvent): e is Extract<PumpEvent, { event: 'closed' }> => e.event === 'closed';
export const isReleased = (e: PumpEvent): e is Extract<PumpEvent, { event: 'released' }> => e.event === 'released';
/** At least `bytes` moved each way. */
export const movedBoth = (bytes: number) => (e: PumpEvent): e is Extract<PumpEvent, { event: 'moved' }> =>
  e.event === 'moved' && e.read >= bytes && e.written >= bytes;
