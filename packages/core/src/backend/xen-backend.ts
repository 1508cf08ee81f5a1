/**
 * The backend interface: everything the layers above (@xenipc/channel, @xenipc/rpc, the CLI)
 * need from "a Xen host", and nothing more. Three implementations are interchangeable:
 *
 * - `openXenBackend()`       the real devices (/dev/xen/gntalloc, gntdev, evtchn, xenbus)
 * - `joinSimulatedHost()`    a simulated host shared by several OS processes (one domain each)
 * - `createLoopbackHost()`   an in-process host with several domains, for fast unit tests
 *
 * Code above this line must not be able to tell which one it has. Semantics follow Xen and the
 * Linux drivers (see ../../../../README.md "Architecture" and the package README).
 */
import type { EventEmitter } from 'eventemitter3';

/** A domain id, 0..0x7fef (DOMID_FIRST_RESERVED is 0x7ff0). */
export type DomId = number;
/** A grant reference, u32. */
export type GrantRef = number;
/** A local event-channel port, u32 (> 0). */
export type EvtchnPort = number;

/** Size of a grant page. Xen grants are always 4 KiB pages. */
export const PAGE_SIZE = 4096;
/** Highest domid a guest can name; ids from 0x7ff0 up are reserved (DOMID_SELF, DOMID_IO, ...). */
export const DOMID_MAX = 0x7fef;

/**
 * What happens when the local side of a grant (its sharer or its mapper) lets go of the memory:
 * explicit close, process exit, or the process being killed. Xen's UNMAP_NOTIFY_CLEAR_BYTE and
 * UNMAP_NOTIFY_SEND_EVENT. This is how a peer learns that we died.
 */
export interface UnmapNotify {
  /** Byte offset inside the region (GrantedPages/ForeignMapping buffer) set to 0; the page must be writable. */
  clearByte?: number;
  /** Local event channel on which one event is sent. Must have been bound through the same backend. */
  sendEvent?: EventChannel;
}

/** Pages of our own memory granted to one peer domain (the gntalloc side; the vchan server). */
export interface GrantedPages {
  readonly peer: DomId;
  /** One grant ref per page, in page order. */
  readonly refs: readonly GrantRef[];
  readonly writable: boolean;
  /** The pages, contiguous, refs.length * PAGE_SIZE bytes. Detached (byteLength 0) after close(). */
  readonly buffer: ArrayBuffer;
  /** Register (or replace) the notification fired when we release the pages. */
  setUnmapNotify(notify: UnmapNotify): void;
  /** Stop sharing and unmap. Idempotent. Fires the unmap notification. */
  close(): void;
}

/** A peer's granted pages mapped into our address space (the gntdev side; the vchan client). */
export interface ForeignMapping {
  readonly peer: DomId;
  readonly refs: readonly GrantRef[];
  readonly writable: boolean;
  /** refs.length * PAGE_SIZE bytes. Detached (byteLength 0) after close(). */
  readonly buffer: ArrayBuffer;
  setUnmapNotify(notify: UnmapNotify): void;
  /**
   * Is the domain that granted these pages still running? Asked with a 1-byte grant copy from
   * the first page: Xen refuses copies from a domain that was destroyed (GNTST_bad_domain) even
   * while it lingers because we map its pages, and this mapping stays readable meanwhile (seen on
   * Xen 4.17). So, unlike XenBackend.probeDomain, a dying domain is 'absent' here. 'unknown' after
   * close() or for any other refusal.
   */
  probeOwner(): Promise<DomainPresence>;
  /** Unmap. Idempotent. Fires the unmap notification. */
  close(): void;
}

/**
 * What Xen reports about a local port (EVTCHNOP_status). A port whose peer domain died falls back
 * from 'interdomain' to 'unbound'. 'unknown' where the backend cannot ask (Linux's evtchn device
 * has no status ioctl; use xenstore to watch for domain death there).
 */
export type EventChannelStatus = 'interdomain' | 'unbound' | 'closed' | 'unknown';

/**
 * Whether Xen still knows a domain (XenBackend.probeDomain). 'present' includes a domain that was
 * destroyed but whose pages another domain still maps: Xen keeps it (a "zombie") until they are
 * unmapped. 'unknown' where the backend could not ask.
 */
export type DomainPresence = 'present' | 'absent' | 'unknown';

export interface EventChannelEvents {
  /** The peer notified us. Coalesced: several notifies before delivery give one event. */
  event: () => void;
  /** The backend lost the port (e.g. the simulated host went away). */
  error: (err: Error) => void;
}

/** One bound event-channel port. Delivery runs on the event loop; notify() is synchronous and cheap. */
export interface EventChannel extends EventEmitter<EventChannelEvents> {
  readonly localPort: EvtchnPort;
  readonly remoteDomain: DomId;
  /** Send an event to the other end. Never blocks; coalesces at the receiver. */
  notify(): void;
  status(): Promise<EventChannelStatus>;
  /** Unbind. Idempotent; no event is delivered afterwards. */
  close(): void;
}

/** xenstore permission, as in `xenstore-chmod`: n(one) r(ead) w(rite) b(oth). */
export type XsPermissionKind = 'none' | 'read' | 'write' | 'both';
/** The first entry names the owner (whose `perm` applies to every domain not listed). */
export interface XsPermission {
  domid: DomId;
  perm: XsPermissionKind;
}

export interface XsWatchEvent {
  /** The path that changed (may be below the watched path). */
  path: string;
  token: string;
}

export interface XenStoreEvents {
  watch: (event: XsWatchEvent) => void;
  close: (err?: Error) => void;
}

/** A transaction id; 0 means "no transaction". */
export type XsTransaction = number;

/**
 * A xenstore client speaking the xs_wire protocol. Relative paths resolve under
 * /local/domain/<own domid>/. Failures are XenError with the errno name xenstored returned.
 */
export interface XenStore extends EventEmitter<XenStoreEvents> {
  read(path: string, tx?: XsTransaction): Promise<string>;
  write(path: string, value: string, tx?: XsTransaction): Promise<void>;
  mkdir(path: string, tx?: XsTransaction): Promise<void>;
  rm(path: string, tx?: XsTransaction): Promise<void>;
  directory(path: string, tx?: XsTransaction): Promise<string[]>;
  getPerms(path: string, tx?: XsTransaction): Promise<XsPermission[]>;
  setPerms(path: string, perms: readonly XsPermission[], tx?: XsTransaction): Promise<void>;
  /** Fires once at once (as xenstored does) and then on every change at or below `path`. */
  watch(path: string, token: string): Promise<void>;
  unwatch(path: string, token: string): Promise<void>;
  transactionStart(): Promise<XsTransaction>;
  /** commit=false aborts. A conflicting commit rejects with XenError code EAGAIN. */
  transactionEnd(tx: XsTransaction, commit: boolean): Promise<void>;
  /** Runs fn in a transaction, retrying on EAGAIN up to `retries` times (default 10). */
  transaction<T>(fn: (tx: XsTransaction) => Promise<T>, retries?: number): Promise<T>;
  getDomainPath(domid: DomId): Promise<string>;
  close(): void;
}

/** A domain's view of its host. */
export interface XenBackend {
  /**
   * Capability: the spin budget (microseconds) a channel waiting on this backend uses by default,
   * when its user gives none. Absent: the channel's own default. 0 where the peer runs in this
   * very thread (spinning cannot see it move, only delay it).
   */
  readonly defaultSpinMicros?: number;
  /** Our own domain id. */
  readonly domid: DomId;
  readonly xenstore: XenStore;

  /** Grant `pageCount` fresh zeroed pages to `peer` (gntalloc ALLOC_GREF + mmap). */
  share(peer: DomId, pageCount: number, options?: { writable?: boolean }): Promise<GrantedPages>;
  /** Map grants of domain `peer` (gntdev MAP_GRANT_REF + mmap), contiguously, in the given order. */
  map(peer: DomId, refs: readonly GrantRef[], options?: { writable?: boolean }): Promise<ForeignMapping>;
  /** Allocate a port that `peer` can bind to (EVTCHN BIND_UNBOUND_PORT). */
  bindUnbound(peer: DomId): Promise<EventChannel>;
  /** Connect to `peer`'s unbound port (EVTCHN BIND_INTERDOMAIN). */
  bindInterdomain(peer: DomId, remotePort: EvtchnPort): Promise<EventChannel>;
  /**
   * Does Xen still know domain `domid`? Any domain may ask, a domU included (which can neither
   * read other domains' xenstore homes nor hear @releaseDomain): it is asked by binding port 0 of
   * that domain, which never succeeds (port 0 is reserved in every domain) and fails with ESRCH
   * when there is no such domain, EINVAL when there is (evtchn_bind_interdomain). Nothing is bound.
   */
  probeDomain(domid: DomId): Promise<DomainPresence>;

  /** Release everything this backend holds (mappings, grants, ports, the xenstore connection). */
  close(): Promise<void>;
}
