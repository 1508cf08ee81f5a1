/**
 * Test-side handle of a fixture child process driven by commands over IPC: each command is
 * `{id, cmd, ...args}` and gets one reply `{id, ...}` (with `error` set if it failed); messages
 * carrying `event` instead are pushed to onEvent() listeners.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { spawnTs } from './spawn-domain.js';

export type Reply = Record<string, any> & { error?: string; message?: string };

export class FixtureProcess {
  readonly child: ChildProcess;
  stderr = '';
  #nextId = 1;
  readonly #waiting = new Map<number, { cmd: string; resolve: (reply: Reply) => void; reject: (err: Error) => void }>();
  readonly #eventListeners = new Set<(event: Reply) => void>();

  constructor(fixture: URL, args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawnTs(fixture, args, { env });
    this.child.setMaxListeners(0);
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    // One listener for every command in flight (not one per command: a long-lived fixture
    // answers thousands of commands).
    this.child.once('exit', (code, signal) => {
      for (const { cmd, reject } of this.#waiting.values()) {
        reject(new Error(`fixture process exited (${String(code ?? signal)}) before answering ${cmd}: ${this.stderr}`));
      }
      this.#waiting.clear();
    });
    this.child.on('message', (reply: Reply) => {
      if (reply['event'] !== undefined) {
        for (const listener of this.#eventListeners) listener(reply);
        return;
      }
      const id = reply['id'] as number;
      const waiting = this.#waiting.get(id);
      this.#waiting.delete(id);
      waiting?.resolve(reply);
    });
  }

  onEvent(listener: (event: Reply) => void): void {
    this.#eventListeners.add(listener);
  }

  /** Send a command; resolves with the reply (which has `error` set if the command failed). */
  ask(cmd: string, args: Record<string, unknown> = {}): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new Error(`fixture process exited (${String(this.child.exitCode ?? this.child.signalCode)}) before answering ${cmd}: ${this.stderr}`));
        return;
      }
      this.#waiting.set(id, { cmd, resolve, reject });
      this.child.send({ id, cmd, ...args });
    });
  }

  /** Like ask(), but a failed command throws. */
  async do(cmd: string, args: Record<string, unknown> = {}): Promise<Reply> {
    const reply = await this.ask(cmd, args);
    if (reply.error !== undefined) throw new Error(`${cmd} failed: ${reply.error} ${reply.message ?? ''}\n${String(reply['stack'] ?? '')}`);
    return reply;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Asks the fixture to close and waits for it to exit. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    await this.do('close');
    await exited;
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }
}
