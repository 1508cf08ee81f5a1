/**
 * dom0 side of the peer agent (see agent-protocol.ts): sends requests to the agent in the domU
 * through xenstore and waits for the answers.
 */
import { execFile } from 'node:child_process';
import type { DomId } from '@xenipc/core';
import { agentDir, type AgentError, type AgentOp, type AgentOps, type AgentResponse } from './agent-protocol.js';
import { XsCliWatch, xsRm, xsTryRead, xsWrite } from './xenstore-cli.js';

/**
 * The domid of the rig's domU (run-suite.sh starts it): XENIPC_PEER_DOMID if set, else asked
 * from the rig's `xenipc-domu id`, which waits while the domU is still being created.
 */
export async function findPeerDomid(): Promise<DomId> {
  const fromEnv = process.env.XENIPC_PEER_DOMID;
  if (fromEnv) return Number(fromEnv);
  const printed = await new Promise<string>((resolve, reject) => {
    execFile('xenipc-domu', ['id', '300'], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`no peer domU (run through \`pnpm test:xen\`): xenipc-domu id: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
  return Number(printed.trim());
}

/** A failure the agent reported; `code` is the errno name when there was one. */
export class AgentOpError extends Error {
  readonly code: string | undefined;
  readonly syscall: string | undefined;

  constructor(op: AgentOp, error: AgentError) {
    super(`peer agent: ${op} failed: ${error.message}`);
    this.name = 'AgentOpError';
    this.code = error.code;
    this.syscall = error.syscall;
  }
}

interface Pending {
  op: AgentOp;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Request ids are unique per process, not per PeerAgent: the agent answers each id once, and the
 * rig runs every test file in one process (one after the other, each with its own PeerAgent).
 */
let requestsSent = 0;

export class PeerAgent {
  readonly domid: DomId;
  readonly #dir: string;
  readonly #pending = new Map<string, Pending>();
  readonly #watch: XsCliWatch;

  private constructor(domid: DomId) {
    this.domid = domid;
    this.#dir = agentDir(domid);
    this.#watch = new XsCliWatch(`${this.#dir}/res`, (path) => void this.#onResponse(path));
  }

  /** Waits (up to timeoutMs: the domU boots and starts node under TCG meanwhile) for the agent. */
  static async connect(domid: DomId, timeoutMs = 280_000): Promise<PeerAgent> {
    const deadline = Date.now() + timeoutMs;
    while ((await xsTryRead(`${agentDir(domid)}/ready`)) === undefined) {
      if (Date.now() > deadline) throw new Error(`no peer agent in domain ${domid} after ${timeoutMs} ms (see the domU console)`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return new PeerAgent(domid);
  }

  call<K extends AgentOp>(op: K, args: AgentOps[K]['args'], timeoutMs = 60_000): Promise<AgentOps[K]['result']> {
    const id = `${process.pid}-${++requestsSent}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`peer agent: no answer to ${op} (${id}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { op, resolve: resolve as (value: unknown) => void, reject, timer });
      xsWrite(`${this.#dir}/req/${id}`, JSON.stringify({ op, args })).catch((err: Error) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      });
    });
  }

  async #onResponse(path: string): Promise<void> {
    const id = path.slice(`${this.#dir}/res/`.length);
    const pending = this.#pending.get(id);
    if (!path.startsWith(`${this.#dir}/res/`) || pending === undefined) return;
    const text = await xsTryRead(path);
    if (text === undefined || !this.#pending.has(id)) return;   // not written yet, or already taken
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    void xsRm(path).catch(() => undefined);
    let response: AgentResponse;
    try {
      response = JSON.parse(text) as AgentResponse;
    } catch (err) {
      pending.reject(new Error(`peer agent: unreadable answer to ${pending.op} (${id}): ${(err as Error).message}: ${text.slice(0, 200)}`));
      return;
    }
    if (response.ok) pending.resolve(response.result);
    else pending.reject(new AgentOpError(pending.op, response.error));
  }

  close(): void {
    this.#watch.close();
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`peer agent client closed with ${pending.op} (${id}) pending`));
    }
    this.#pending.clear();
  }
}

