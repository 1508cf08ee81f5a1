/**
 * An in-process "Xen host" with several domains, for fast unit tests of code written against
 * XenBackend (the vchan channel above all). Everything runs in one process; granted pages are
 * memfds (through the native addon) and xenstore is the simulated xenstored, so it behaves like
 * the simulated host and real Xen (test/conformance/ checks that):
 *
 *   const host = createLoopbackHost();
 *   const dom1 = host.domain(1), dom2 = host.domain(2);   // each call = one process in that domain
 *   ... host.crash(2) ...                                 // kill: unmap-notifies fire, ports close
 *   ... host.destroyDomain(2) ...                         // domain death: nothing runs in it
 *   host.assertCleanedUp();                               // no grant, mapping, port, node, watch left
 *
 * Like ocaml-vchan's In_memory backend, it keeps a ledger of what every backend holds so each
 * test can prove it released everything.
 */
import {
  type DomainPresence,
  type DomId,
  type EventChannel,
  type EvtchnPort,
  type ForeignMapping,
  type GrantedPages,
  type GrantRef,
  PAGE_SIZE,
  type XenBackend,
  XenError,
  type XenStoreClient,
} from '@xenipc/core';
import { checkDomid, checkGrantRefs, checkPageCount, checkPort } from '@xenipc/core/backend-kit';
import { XenStoreServer } from '../xenstored/xs-server.js';
import { DEFAULT_GRANT_LIMIT } from '../simulated-host/host-grant-table.js';
import { connectInProcess } from './in-process-xenstore.js';
import { LoopbackEventChannel } from './loopback-event-channel.js';
import {
  LoopbackForeignMapping,
  LoopbackGrantedPages,
  GrantAllocation,
  type GrantedPage,
  type HeldResource,
} from './loopback-grants.js';

/** What is held right now, host-wide. */
export interface LoopbackLedger {
  grants: number;
  mappings: number;
  ports: number;
  backends: number;
  xenstoreNodes: string[];
  xenstoreWatches: string[];
  xenstoreTransactions: number;
}

interface DomainState {
  nextRef: GrantRef;
  nextPort: EvtchnPort;
  /** Every ref this domain has granted and not taken back. */
  grants: Map<GrantRef, GrantedPage>;
  ports: Map<EvtchnPort, LoopbackEventChannel>;
  backends: Set<LoopbackBackend>;
  dead: boolean;
}

export interface LoopbackHostOptions {
  /** Pages each domain may have granted at once (gntalloc's `limit`); default 1024, as Linux. */
  grantLimit?: number;
}

export class LoopbackHost {
  /** The host's xenstored: the simulated host's, reached in process. */
  readonly xenstored = new XenStoreServer();
  readonly grantLimit: number;
  private readonly domains = new Map<DomId, DomainState>();

  constructor(options: LoopbackHostOptions = {}) {
    this.grantLimit = options.grantLimit ?? DEFAULT_GRANT_LIMIT;
  }

  /** Another xenstore connection of domain `domid`, as a further process of that domain would open. */
  connectXenStore(domid: DomId): XenStoreClient {
    checkDomid(domid, 'loopback xenstore');
    this.domainState(domid);
    return connectInProcess(this.xenstored, { domid, privileged: domid === 0 });
  }

  /** Open a new backend ("process") in domain `domid`, creating the domain on first use. */
  domain(domid: DomId): LoopbackBackend {
    checkDomid(domid, 'loopback domain');
    const state = this.domainState(domid);
    if (state.dead) throw new XenError({ code: 'ESRCH', syscall: 'loopback domain', message: `domain ${domid} was destroyed` });
    const backend = new LoopbackBackend(this, domid, state);
    state.backends.add(backend);
    return backend;
  }

  private domainState(domid: DomId): DomainState {
    let state = this.domains.get(domid);
    if (state === undefined) {
      // Grant refs start at 8 like Linux (0..7 are reserved); ports at 1.
      state = { nextRef: 8, nextPort: 1, grants: new Map(), ports: new Map(), backends: new Set(), dead: false };
      this.domains.set(domid, state);
      this.xenstored.introduceDomain(domid);
    }
    return state;
  }

  /**
   * Internal: the pages `refs` name in `owner`'s grant table, all granted to `mapper` (and
   * writable if asked). Fails like gntdev's mmap: EINVAL for any ref that is not there.
   */
  grantedPages(owner: DomId, mapper: DomId, refs: readonly GrantRef[], writable: boolean): GrantedPage[] {
    const grants = this.domains.get(owner)?.grants;
    const syscall = 'IOCTL_GNTDEV_MAP_GRANT_REF';
    return refs.map((ref) => {
      const page = grants?.get(ref);
      if (page === undefined) throw new XenError({ code: 'EINVAL', syscall, message: `domain ${owner} has no grant ${ref}` });
      // gntdev's mmap fails with EINVAL when Xen refuses the map (GNTST_permission_denied)
      if (page.alloc.peer !== mapper) {
        throw new XenError({ code: 'EINVAL', syscall, message: `grant ${ref} of domain ${owner} is not granted to domain ${mapper}` });
      }
      if (writable && !page.alloc.writable) throw new XenError({ code: 'EINVAL', syscall, message: `grant ${ref} of domain ${owner} is read-only` });
      return page;
    });
  }

  /** Internal: the unbound port `remotePort` of `owner`, reserved for `binder`. */
  findUnboundPort(owner: DomId, binder: DomId, remotePort: EvtchnPort): LoopbackEventChannel {
    const port = this.domains.get(owner)?.ports.get(remotePort);
    if (port === undefined || !port.isUnbound || port.remoteDomain !== binder || port.peerPort !== undefined) {
      throw new XenError({
        code: 'EINVAL',
        syscall: 'IOCTL_EVTCHN_BIND_INTERDOMAIN',
        message: `domain ${owner} has no unbound port ${remotePort} for domain ${binder}`,
      });
    }
    return port;
  }

  /**
   * Internal: what Xen answers about `domid`. domainAlive: ForeignMapping.probeOwner (a grant copy
   * from it works). domainPresence: XenBackend.probeDomain, where a destroyed domain whose pages a
   * live domain still maps lingers as a zombie until they are unmapped, as on Xen.
   */
  domainAlive(domid: DomId): boolean {
    const state = this.domains.get(domid);
    return state !== undefined && !state.dead;
  }

  /** Internal: as domainAlive, but a destroyed domain whose pages are still mapped lingers. */
  domainPresence(domid: DomId): DomainPresence {
    const state = this.domains.get(domid);
    if (state === undefined) return 'absent';
    if (!state.dead) return 'present';
    for (const other of this.domains.values()) {
      if (other.dead) continue;
      for (const b of other.backends) if (b.mapsPagesOf(domid)) return 'present';
    }
    return 'absent';
  }

  /** Kill every process of `domid` (SIGKILL): the kernel releases their grants, mappings and
   * ports, so unmap-notifies fire; the domain itself lives on. */
  crash(domid: DomId): void {
    for (const b of [...(this.domains.get(domid)?.backends ?? [])]) b.kill();
  }

  /** The domain dies (xl destroy): no code of it runs any more, so no unmap-notify fires; its
   * ports vanish (peers fall back to 'unbound'); xenstore drops its home and fires @releaseDomain. */
  destroyDomain(domid: DomId): void {
    const state = this.domains.get(domid);
    if (state === undefined || state.dead) return;
    state.dead = true;
    for (const b of [...state.backends]) b.vanish();
    this.xenstored.releaseDomain(domid);
  }

  ledger(): LoopbackLedger {
    let grants = 0;
    let mappings = 0;
    let ports = 0;
    let backends = 0;
    for (const state of this.domains.values()) {
      grants += state.grants.size;
      ports += state.ports.size;
      backends += state.backends.size;
      for (const b of state.backends) mappings += b.mappingCount;
    }
    const xs = this.xenstored.leftovers();
    return { grants, mappings, ports, backends, xenstoreNodes: xs.nodes, xenstoreWatches: xs.watches, xenstoreTransactions: xs.transactions };
  }

  /** Throws, listing what leaked, unless no grant, mapping, port, xenstore entry, watch or
   * transaction is held. Backends themselves may stay open (their ledgers must be empty). */
  assertCleanedUp(): void {
    const l = this.ledger();
    const leaks: string[] = [];
    if (l.grants > 0) leaks.push(`${l.grants} granted page(s)`);
    if (l.mappings > 0) leaks.push(`${l.mappings} foreign mapping(s)`);
    if (l.ports > 0) leaks.push(`${l.ports} event-channel port(s)`);
    if (l.xenstoreNodes.length > 0) leaks.push(`xenstore entries ${l.xenstoreNodes.join(', ')}`);
    if (l.xenstoreWatches.length > 0) leaks.push(`xenstore watches ${l.xenstoreWatches.join(', ')}`);
    if (l.xenstoreTransactions > 0) leaks.push(`${l.xenstoreTransactions} open xenstore transaction(s)`);
    if (leaks.length > 0) throw new Error(`loopback host not cleaned up: ${leaks.join('; ')}`);
  }
}

export function createLoopbackHost(options: LoopbackHostOptions = {}): LoopbackHost {
  return new LoopbackHost(options);
}

/** One process's view of its domain on a loopback host. */
export class LoopbackBackend implements XenBackend {
  readonly defaultSpinMicros = 0;
  readonly xenstore: XenStoreClient;
  private readonly held = new Set<HeldResource>();
  private readonly ownPorts = new Set<EventChannel>();
  private mappings = 0;
  private closed = false;

  constructor(
    private readonly host: LoopbackHost,
    readonly domid: DomId,
    private readonly state: DomainState,
  ) {
    this.xenstore = connectInProcess(host.xenstored, { domid, privileged: domid === 0 });
  }

  get mappingCount(): number {
    return this.mappings;
  }

  /** Internal: does this process map pages granted by `owner`? */
  mapsPagesOf(owner: DomId): boolean {
    for (const res of this.held) if (res instanceof LoopbackForeignMapping && res.peer === owner) return true;
    return false;
  }

  probeDomain(domid: DomId): Promise<DomainPresence> {
    return attempt(() => {
      const syscall = 'IOCTL_EVTCHN_BIND_INTERDOMAIN';
      this.check(syscall);
      checkDomid(domid, syscall);
      return this.host.domainPresence(domid);
    });
  }

  private check(syscall: string): void {
    if (this.closed) throw new XenError({ code: 'EBADF', syscall, message: 'this loopback backend is closed' });
    if (this.state.dead) throw new XenError({ code: 'ESRCH', syscall, message: `domain ${this.domid} was destroyed` });
  }

  private readonly ownsPort = (ch: EventChannel): boolean => this.ownPorts.has(ch);

  share(peer: DomId, pageCount: number, options: { writable?: boolean } = {}): Promise<GrantedPages> {
    return attempt(() => {
      const syscall = 'IOCTL_GNTALLOC_ALLOC_GREF';
      this.check(syscall);
      checkDomid(peer, syscall);
      checkPageCount(pageCount, syscall);
      if (this.state.grants.size + pageCount > this.host.grantLimit) {
        throw new XenError({
          code: 'ENOSPC',
          syscall,
          message: `cannot share ${pageCount} more pages: domain ${this.domid} would exceed the limit of ${this.host.grantLimit} granted pages (gntalloc's limit)`,
        });
      }
      const refs: GrantRef[] = [];
      for (let i = 0; i < pageCount; i++) refs.push(this.state.nextRef++);
      const alloc = new GrantAllocation(this.domid, peer, refs, options.writable ?? true);
      refs.forEach((ref, index) => this.state.grants.set(ref, { alloc, index }));
      const pages = new LoopbackGrantedPages(alloc, this.ownsPort, (res) => {
        this.held.delete(res);
        for (const ref of refs) this.state.grants.delete(ref);
      });
      this.held.add(pages);
      return pages;
    });
  }

  map(peer: DomId, refs: readonly GrantRef[], options: { writable?: boolean } = {}): Promise<ForeignMapping> {
    return attempt(() => {
      const syscall = 'IOCTL_GNTDEV_MAP_GRANT_REF';
      this.check(syscall);
      checkDomid(peer, syscall);
      checkGrantRefs(refs, syscall);
      const writable = options.writable ?? true;
      const pages = this.host.grantedPages(peer, this.domid, refs, writable);
      const mapping = new LoopbackForeignMapping(peer, pages, refs, writable, this.ownsPort, (res) => {
        this.held.delete(res);
        this.mappings -= 1;
      }, () => this.host.domainAlive(peer));
      this.mappings += 1;
      this.held.add(mapping);
      return mapping;
    });
  }

  private newPort(remote: DomId): LoopbackEventChannel {
    const port = new LoopbackEventChannel(this.state.nextPort++, remote, this.domid, (p) => {
      this.state.ports.delete(p.localPort);
      this.ownPorts.delete(p);
      this.held.delete(portResource);
    });
    const portResource: HeldResource = { close: () => port.close(), kill: () => port.close(), vanish: () => port.close() };
    this.state.ports.set(port.localPort, port);
    this.ownPorts.add(port);
    this.held.add(portResource);
    return port;
  }

  bindUnbound(peer: DomId): Promise<EventChannel> {
    return attempt(() => {
      this.check('IOCTL_EVTCHN_BIND_UNBOUND_PORT');
      checkDomid(peer, 'IOCTL_EVTCHN_BIND_UNBOUND_PORT');
      return this.newPort(peer);
    });
  }

  bindInterdomain(peer: DomId, remotePort: EvtchnPort): Promise<EventChannel> {
    return attempt(() => {
      const syscall = 'IOCTL_EVTCHN_BIND_INTERDOMAIN';
      this.check(syscall);
      checkDomid(peer, syscall);
      checkPort(remotePort, syscall);
      const remote = this.host.findUnboundPort(peer, this.domid, remotePort);
      const local = this.newPort(peer);
      local.connect(remote);
      remote.connect(local);
      return local;
    });
  }

  /** Release resources in the order a dying process's files close: mappings and grants first
   * (their unmap-notifies may still use a port), then ports. */
  private releaseAll(how: 'close' | 'kill' | 'vanish'): void {
    const all = [...this.held];
    const order = (r: HeldResource): number => (r instanceof LoopbackGrantedPages || r instanceof LoopbackForeignMapping ? 0 : 1);
    all.sort((a, b) => order(a) - order(b));
    for (const r of all) r[how]();
    this.held.clear();
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.releaseAll('close');
      this.xenstore.close();
      this.state.backends.delete(this);
    }
    return Promise.resolve();
  }

  /** Internal (LoopbackHost.crash): the process is killed. */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    this.releaseAll('kill');
    this.xenstore.close();
    this.state.backends.delete(this);
  }

  /** Internal (LoopbackHost.destroyDomain): the domain is gone. */
  vanish(): void {
    if (this.closed) return;
    this.closed = true;
    this.releaseAll('vanish');
    this.xenstore.close();
    this.state.backends.delete(this);
  }
}

function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}
