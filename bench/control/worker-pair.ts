/**
 * The orchestrator's handle on two worker processes: A (spawned here) and B (spawned by A, see
 * worker/main.ts). Commands go to either side; replies come back through A.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isReply, type Command, type Reply, type Side } from './protocol.js';

const WORKER_ENTRY = fileURLToPath(new URL('../worker/main.ts', import.meta.url));

export class WorkerPair {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; op: string }>();
  private exited = false;
  /** Process ids of worker A and (if spawned) worker B. */
  readonly pids: number[] = [];

  private constructor(
    readonly label: string,
    private readonly processA: ChildProcess,
  ) {
    processA.on('message', (message: unknown) => {
      if (isReply(message)) this.settle(message);
    });
    processA.on('exit', (code, signal) => {
      this.exited = true;
      const error = new Error(`bench worker pair "${label}" exited (${code ?? signal})`);
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    });
  }

  /** `extraNodeArgs` go before the script (e.g. --cpu-prof); the workers also inherit our execArgv. */
  static async spawn(label: string, withPeer: boolean, extraNodeArgs: readonly string[] = []): Promise<WorkerPair> {
    const args = [...process.execArgv, ...extraNodeArgs, WORKER_ENTRY, 'a', ...(withPeer ? ['--with-peer'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pair = new WorkerPair(label, child);
    pair.pids.push((await pair.call<{ pid: number }>('a', 'ping')).pid);
    if (withPeer) pair.pids.push((await pair.call<{ pid: number }>('b', 'ping')).pid);
    return pair;
  }

  call<T = unknown>(side: Side, op: string, args: unknown = null): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`bench worker pair "${this.label}" is gone`));
    const id = this.nextId++;
    const command: Command = { kind: 'command', id, side, op, args };
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, op });
      this.processA.send(command);
    });
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.id);
    if (waiter === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(new Error(`worker ${this.label}: ${waiter.op} failed: ${reply.error}`));
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.processA.once('exit', () => resolve()));
    await this.call('a', 'exit').catch(() => undefined);
    const timeout = setTimeout(() => this.processA.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timeout);
  }
}
