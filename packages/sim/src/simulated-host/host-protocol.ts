/**
 * Messages between a domain process and the sim host (control-frames.ts carries them).
 * Requests: `{ id, op, ...args }`; replies: `{ id, ok: true, ...result }` or
 * `{ id, error: { code, syscall, message } }`; host-initiated pushes: `{ push, ... }`.
 */
import type { DomId, EvtchnPort, GrantRef } from '@xenipc/core';

/** A memfd of the host process, opened by another process as /proc/<pid>/fd/<fd>. */
export interface SharedFile {
  pid: number;
  fd: number;
}

export function sharedFilePath(file: SharedFile): string {
  return `/proc/${file.pid}/fd/${file.fd}`;
}

/** How to reach the other end of an event channel without going through the host. */
export interface PeerEndpoint {
  domid: DomId;
  port: EvtchnPort;
  /** Abstract Unix socket of the peer's process. */
  eventSocket: string;
  /** The peer's pending-event page: one byte per port, set by senders, cleared by the receiver. */
  pendingPage: SharedFile;
}

export interface HelloRequest { op: 'hello'; domid?: DomId; pid: number; eventSocket: string }
export interface HelloReply { domid: DomId; token: string; pendingPage: SharedFile }
export interface ShareReply { shareId: number; refs: GrantRef[]; file: SharedFile }
export interface MapReply { mapId: number; pages: Array<SharedFile & { offset: number }> }
export interface BindReply { port: EvtchnPort; remote?: PeerEndpoint }
export interface StatusReply { status: 'interdomain' | 'unbound' | 'closed' }
/** presence: as binding port 0 of it would answer; dying: destroyed, kept while others map its pages. */
export interface ProbeDomainReply { presence: 'present' | 'absent'; dying: boolean }

export type HostPush =
  | { push: 'connected'; port: EvtchnPort; remote: PeerEndpoint }
  | { push: 'disconnected'; port: EvtchnPort }
  | { push: 'event'; port: EvtchnPort }
  | { push: 'released'; domid: DomId };

export interface ErrorReply { code: string; syscall: string; message: string }

/** Per-domain resource counts, for leak checks. */
export interface SimLedgerDomain {
  domid: DomId;
  pid: number;
  /** Grant refs this domain shares (including ones it let go of that a peer still maps). */
  grants: number;
  /** Foreign mappings this domain holds. */
  mappings: number;
  /** Bound event-channel ports. */
  ports: number;
  /** xenstore watches of this domain's connections. */
  watches: number;
  /** Open xenstore transactions. */
  transactions: number;
  /** Open xenstore connections (the backend's own plus each connectXenStore()). */
  xenstoreConnections: number;
  /** xenstore nodes at and below the domain's home /local/domain/<domid>, the home included
   * (a fresh domain has 4: the home, domid, name, data). */
  xenstoreNodes: number;
}

export interface SimLedger {
  /** The process serving the host (the auto-started daemon, or whoever called startSimulatedHost). */
  hostPid: number;
  domains: SimLedgerDomain[];
  /**
   * Sums over all domains, plus what the host holds itself: `grantFiles`, the memfds it still
   * holds for grants (a dead domain's pages live on while a peer maps them), and `xenstoreNodes`,
   * every node of the store, "/" included (3 with no domain: "/", "/local", "/local/domain"),
   * so nodes left outside any domain's home count too.
   */
  totals: {
    grants: number;
    mappings: number;
    ports: number;
    watches: number;
    transactions: number;
    xenstoreConnections: number;
    grantFiles: number;
    xenstoreNodes: number;
    /** Gone domains the host still keeps per-domain records for (grant-ref and port tables,
     * toolstack nodes): 0 unless the host leaks. */
    staleDomains: number;
  };
}
