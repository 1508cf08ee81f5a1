/**
 * The peer agent's protocol: dom0-side tests (agent-client.ts) ask the agent in the domU
 * (peer-agent.ts) to act on the real Xen devices there, one request per xenstore node:
 *
 *   <agentDir>/ready        agent pid, written once the agent listens
 *   <agentDir>/req/<id>     JSON AgentRequest, written by the client (dom0 is privileged)
 *   <agentDir>/res/<id>     JSON AgentResponse, written by the agent; the client removes it
 *
 * <agentDir> is in the domU's own data/ dir, which the domU may write. Ids are unique per client
 * process ("<pid>-<n>"), so several vitest workers can share the agent. Values stay far below
 * xenstore's 4096-byte payload limit: page contents are checked in place (byte patterns), never
 * shipped.
 */
import type { DomainPresence, DomId, EvtchnPort, GrantRef } from '@xenipc/core';

export function agentDir(domid: DomId): string {
  return `/local/domain/${domid}/data/xenipc-agent`;
}

/** A resource the agent holds for a client: grant, mapping, event channel or victim process. */
export type Handle = number;

/** What a victim process sets up before it is killed (see unmap-victim.ts). */
export type VictimPlan =
  /** Map `refs` of `peer` writable, bind to `remotePort`, and ask for clear-byte + event on unmap. */
  | { role: 'mapper'; peer: DomId; refs: GrantRef[]; remotePort: EvtchnPort; clearByte: number }
  /** Share `pages` with `peer` (byte `clearByte` set to 0xa5), offer a port, ask for clear-byte + event on unmap. */
  | { role: 'sharer'; peer: DomId; pages: number; clearByte: number };

/** Printed by the victim (one JSON line on stdout) once it is set up. */
export interface VictimReady {
  pid: number;
  /** role 'sharer': the grant refs and the port it offers. */
  refs?: GrantRef[];
  port?: EvtchnPort;
}

export interface ProcessResult {
  code: number | null;
  signal: string | null;
  /** The last 1500 characters of each. */
  stdout: string;
  stderr: string;
}

export interface AgentOps {
  hello: { args: Record<string, never>; result: { domid: DomId; pid: number } };
  share: { args: { peer: DomId; pages: number; writable?: boolean; seed?: number }; result: { handle: Handle; refs: GrantRef[] } };
  map: { args: { peer: DomId; refs: GrantRef[]; writable?: boolean }; result: { handle: Handle } };
  fill: { args: { handle: Handle; seed: number }; result: null };
  /** -1: the whole region matches pattern `seed`. */
  check: { args: { handle: Handle; seed: number }; result: { mismatchAt: number } };
  peek: { args: { handle: Handle; offset: number }; result: { value: number } };
  poke: { args: { handle: Handle; offset: number; value: number }; result: null };
  bindUnbound: { args: { peer: DomId }; result: { handle: Handle; port: EvtchnPort } };
  bindInterdomain: { args: { peer: DomId; port: EvtchnPort }; result: { handle: Handle; port: EvtchnPort } };
  /** XenBackend.probeDomain in the domU: does Xen still know `domid`? */
  probeDomain: { args: { domid: DomId }; result: { presence: DomainPresence } };
  /** `times` notifies in a row (default 1). */
  notify: { args: { handle: Handle; times?: number }; result: null };
  /** Events received so far, once none arrived for `quietMs` (absorbs a spurious bind-time event). */
  settledEventCount: { args: { handle: Handle; quietMs: number }; result: { count: number } };
  /** Resolves once at least `count` events arrived; fails after timeoutMs. */
  waitEvents: { args: { handle: Handle; count: number; timeoutMs: number }; result: { count: number } };
  /** Resolves once byte `offset` of a region is 0; fails after timeoutMs. */
  waitByteCleared: { args: { handle: Handle; offset: number; timeoutMs: number }; result: null };
  setUnmapNotify: { args: { handle: Handle; clearByte?: number; eventHandle?: Handle }; result: null };
  close: { args: { handle: Handle }; result: null };
  /** Start a victim process in the domU; resolves with what it set up. */
  spawnVictim: { args: VictimPlan; result: { handle: Handle; ready: VictimReady } };
  killVictim: { args: { handle: Handle; signal: NodeJS.Signals }; result: { signal: string | null } };
  /** Up to 1024 bytes of a region, as hex. */
  readBytes: { args: { handle: Handle; offset: number; length: number }; result: { hex: string } };
  writeBytes: { args: { handle: Handle; offset: number; hex: string }; result: null };
  /**
   * Run a program in the domU (e.g. libxenvchan's vchan-socket-proxy). `stdin` is written at
   * once; stdin then stays open for stdinOpenMs (default 0: closed at once).
   */
  startProcess: { args: { command: string; args: string[]; stdin?: string; stdinOpenMs?: number }; result: { handle: Handle; pid: number } };
  /** Resolves once the process's stdout contains `text`; fails after timeoutMs (with its output). */
  awaitProcessOutput: { args: { handle: Handle; text: string; timeoutMs: number }; result: { stdout: string } };
  /** Waits for the process to end (after timeoutMs, SIGKILL to it and all it started); its status and the tail of its output. */
  processResult: { args: { handle: Handle; timeoutMs: number }; result: ProcessResult };
  /** @xenipc/core's xenstore client in the domU (over /dev/xen/xenbus). */
  xsClientWrite: { args: { path: string; value: string }; result: { transport: string } };
  xsClientRead: { args: { path: string }; result: { value: string } };
  /**
   * Watch `path` with @xenipc/core's client, write `<path>-watching` = 1 once the watch is set, and
   * resolve once a watch event finds `path` = `value` (fails after timeoutMs).
   */
  xsClientAwaitValue: { args: { path: string; value: string; timeoutMs: number }; result: { events: number } };
}

export type AgentOp = keyof AgentOps;

export interface AgentRequest<K extends AgentOp = AgentOp> {
  op: K;
  args: AgentOps[K]['args'];
}

export interface AgentError {
  message: string;
  /** XenError / Node errno name, when the failure had one. */
  code?: string;
  syscall?: string;
}

export type AgentResponse<K extends AgentOp = AgentOp> =
  | { ok: true; result: AgentOps[K]['result'] }
  | { ok: false; error: AgentError };
