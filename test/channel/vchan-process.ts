/** Test-side handle of a vchan-peer.fixture.ts child process (one simulated domain). */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { spawnTs } from '../support/spawn-domain.js';

export type Reply = Record<string, unknown> & { error?: string; message?: string };

export class VchanProcess {
  readonly child: ChildProcess;
  domid = -1;
  stderr = '';
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private readonly eventListeners = new Set<(event: Reply) => void>();

  constructor(dir: string) {
    this.child = spawnTs(new URL('./vchan-peer.fixture.ts', import.meta.url), [dir]);
    this.child.setMaxListeners(0);
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('message', (reply: Reply) => {
      if (reply['event'] !== undefined) {
        for (const l of this.eventListeners) l(reply);
        return;
      }
      const id = reply['id'] as number;
      const resolve = this.waiting.get(id);
      this.waiting.delete(id);
      resolve?.(reply);
    });
  }

  static async start(dir: string): Promise<VchanProcess> {
    const p = new VchanProcess(dir);
    p.domid = (await p.do('join'))['domid'] as number;
    return p;
  }

  onEvent(listener: (event: Reply) => void): void {
    this.eventListeners.add(listener);
  }

  ask(cmd: string, args: Record<string, unknown> = {}): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.child.once('exit', (code, signal) => {
        if (this.waiting.has(id)) reject(new Error(`domain process exited (${String(code ?? signal)}) before answering ${cmd}: ${this.stderr}`));
      });
      this.child.send({ id, cmd, ...args });
    });
  }

  async do(cmd: string, args: Record<string, unknown> = {}): Promise<Reply> {
    const reply = await this.ask(cmd, args);
    if (reply.error !== undefined) throw new Error(`${cmd} failed: ${reply.error} ${reply.message ?? ''}\n${String(reply['stack'] ?? '')}`);
    return reply;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    await this.do('close');
    await exited;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }
}
