/** Test-side handle of a domain.fixture.ts child process. */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { spawnTs } from '../support/spawn-domain.js';

export class DomainProcess {
  readonly child: ChildProcess;
  #nextId = 1;
  readonly #waiting = new Map<number, (reply: Record<string, unknown>) => void>();
  stderr = '';

  constructor(dir: string, env: NodeJS.ProcessEnv = process.env) {
    this.child = spawnTs(new URL('./domain.fixture.ts', import.meta.url), [dir], { env });
    this.child.setMaxListeners(0);
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('message', (reply: Record<string, unknown>) => {
      const resolve = this.#waiting.get(reply.id as number);
      this.#waiting.delete(reply.id as number);
      resolve?.(reply);
    });
  }

  /** Send a command; resolves with the reply (which has `error` set if the command failed). */
  ask(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, resolve);
      this.child.once('exit', (code) => reject(new Error(`domain process exited (${String(code)}) before answering ${cmd}: ${this.stderr}`)));
      this.child.send({ id, cmd, ...args });
    });
  }

  /** Like ask(), but a failed command throws. */
  async do(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const reply = await this.ask(cmd, args);
    if (reply.error !== undefined) throw new Error(`${cmd} failed: ${String(reply.error)}`);
    return reply;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    await this.do('close');
    await exited;
  }

  async kill(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }
}
