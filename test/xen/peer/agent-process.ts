/**
 * A program the peer agent runs for a test (startProcess), with its output collected. It runs in
 * a process group of its own, and a kill reaches the whole group: most programs are `sh -c`
 * lines, and killing only the shell would leave its children holding the output pipes, so the
 * result would never come.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ProcessResult } from './agent-protocol.js';
import { waitUntil } from './wait-until.js';

const OUTPUT_TAIL = 1500;

export class AgentProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #exited: Promise<void>;
  #result: { code: number | null; signal: string | null } | undefined;

  constructor(command: string, args: readonly string[], stdin: string | undefined, stdinOpenMs: number) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdin!.on('error', () => undefined);   // the program may exit before reading it
    this.#exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.#result = { code, signal };
        resolve();
      });
      this.child.once('error', (err) => {
        this.stderr += `spawn ${command}: ${err.message}`;
        this.#result = { code: null, signal: null };
        resolve();
      });
    });
    if (stdin !== undefined) this.child.stdin!.write(stdin);
    setTimeout(() => this.child.stdin!.end(), stdinOpenMs).unref();
  }

  async awaitOutput(text: string, timeoutMs: number): Promise<string> {
    try {
      await waitUntil(`"${text}" on stdout`, timeoutMs, () => this.stdout.includes(text) || this.#result !== undefined);
    } catch (err) {
      throw new Error(`${(err as Error).message}; stdout: ${this.stdout.slice(-OUTPUT_TAIL)}; stderr: ${this.stderr.slice(-OUTPUT_TAIL)}`);
    }
    if (!this.stdout.includes(text)) throw new Error(`exited (${JSON.stringify(this.#result)}) without "${text}" on stdout; stderr: ${this.stderr.slice(-OUTPUT_TAIL)}`);
    return this.stdout.slice(-OUTPUT_TAIL);
  }

  /** Signals the program's whole process group (the program and what it started). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = this.child.pid;
    if (pid === undefined || this.#result !== undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      this.child.kill(signal);   // the group is gone already
    }
  }

  async result(timeoutMs: number): Promise<ProcessResult> {
    const timer = setTimeout(() => {
      this.stderr += `\n[peer agent: killed after ${timeoutMs} ms]`;
      this.kill('SIGKILL');
    }, timeoutMs);
    await this.#exited;
    clearTimeout(timer);
    return { code: this.#result?.code ?? null, signal: this.#result?.signal ?? null, stdout: this.stdout.slice(-OUTPUT_TAIL), stderr: this.stderr.slice(-OUTPUT_TAIL) };
  }
}
