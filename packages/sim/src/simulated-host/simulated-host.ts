/**
 * The simulated Xen host: "hypervisor + xenstored" for domains that are OS processes. It owns
 * the grant table, the event-channel table and a xenstore, and serves them on `<dir>/host.sock`.
 * It is NOT on the event hot path: notifications go straight from one domain process to the other
 * (see event-links.ts); the host only tells each end where the other is.
 *
 * A domain is one control connection. When it closes (exit, crash, SIGKILL) the host does what
 * the kernel and Xen would: it performs that domain's unmap notifications (clear the byte with
 * pwrite on the memfd, send the event), releases its mappings and grants, closes its ports (peers
 * fall back to unbound), removes /local/domain/<id> from xenstore and fires @releaseDomain.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { type DomId, domainPath, memfdCreate, PAGE_SIZE, XenError } from '@xenipc/core';
import {
  checkDomid,
  checkGrantRefs,
  checkNotifyOffset,
  checkPageCount,
  checkPort,
  checkU32,
} from '@xenipc/core/backend-kit';
import { XenStoreServer } from '../xenstored/xs-server.js';
import { ControlFrameDecoder, encodeControlFrame } from './control-frames.js';
import { HostEventChannels, PORTS_PER_DOMAIN, type HostPort } from './host-event-channels.js';
import { DEFAULT_GRANT_LIMIT, HostGrantTable, type UnmapNotifyRegistration } from './host-grant-table.js';
import type { HostPush, PeerEndpoint, SharedFile, SimLedger } from './host-protocol.js';
import { EVENT_SOCKET_PREFIX, hostLockName, hostSocketPath, prepareSimDir, defaultSimDir } from './sim-dir.js';

export interface StartSimulatedHostOptions {
  /** Sim directory; default $XENIPC_SIM_DIR or `${os.tmpdir()}/xenipc-sim-<uid>`. */
  dir?: string;
  /** Pages each domain may share at once (default 1024, gntalloc's limit). */
  grantLimit?: number;
  /** Close the host once no domain has been connected for this long (the auto-started daemon). */
  idleExitMs?: number;
}

export interface SimulatedHost {
  readonly dir: string;
  readonly socketPath: string;
  ledger(): SimLedger;
  /** Disconnects every domain, frees everything, removes host.sock. Idempotent. */
  close(): Promise<void>;
  /** Resolves when the host has closed (explicitly or after idleExitMs). */
  readonly closed: Promise<void>;
}

interface HostDomain {
  domid: DomId;
  pid: number;
  socket: Socket;
  token: string;
  eventSocket: string;
  pendingFd: number;
}

type Request = Record<string, unknown> & { id?: unknown; op?: unknown };

const ZERO_BYTE = Buffer.alloc(1);

function field(request: Request, name: string): number {
  const value = request[name];
  if (typeof value !== 'number') throw new XenError({ code: 'EINVAL', syscall: String(request.op), message: `${name} must be a number` });
  return value;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

class Host implements SimulatedHost {
  readonly dir: string;
  readonly socketPath: string;
  readonly closed: Promise<void>;
  readonly #grants: HostGrantTable;
  readonly #ports = new HostEventChannels();
  readonly #xenstore = new XenStoreServer();
  readonly #domains = new Map<DomId, HostDomain>();
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;
  readonly #lock: Server;
  readonly #idleExitMs: number | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #nextDomid = 1;
  #closing = false;
  #resolveClosed!: () => void;

  constructor(dir: string, lock: Server, options: StartSimulatedHostOptions) {
    this.dir = dir;
    this.socketPath = hostSocketPath(dir);
    this.#lock = lock;
    this.#idleExitMs = options.idleExitMs;
    this.#grants = new HostGrantTable((bytes) => memfdCreate('xenipc-sim-grant', bytes), options.grantLimit ?? DEFAULT_GRANT_LIMIT);
    this.#server = createServer((socket) => this.#accept(socket));
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  async start(): Promise<void> {
    try {
      unlinkSync(this.socketPath); // we hold the lock, so any existing host.sock is stale
    } catch {
      // none there
    }
    await listen(this.#server, this.socketPath);
    this.#armIdleTimer();
  }

  ledger(): SimLedger {
    const domains = [...this.#domains.values()].map((d) => ({
      domid: d.domid,
      pid: d.pid,
      grants: this.#grants.grantsOf(d.domid),
      mappings: this.#grants.mappingsBy(d.domid).length,
      ports: this.#ports.count(d.domid),
      watches: this.#xenstore.watchCount(d.domid),
      transactions: this.#xenstore.transactionCount(d.domid),
      xenstoreConnections: this.#xenstore.connectionCount(d.domid),
      xenstoreNodes: this.#xenstore.tree.countNodes(domainPath(d.domid)),
    }));
    const sum = (key: 'grants' | 'mappings' | 'ports' | 'watches' | 'transactions' | 'xenstoreConnections'): number =>
      domains.reduce((total, d) => total + d[key], 0);
    return {
      hostPid: process.pid,
      domains,
      totals: {
        grants: sum('grants'),
        mappings: sum('mappings'),
        ports: sum('ports'),
        watches: sum('watches'),
        transactions: sum('transactions'),
        xenstoreConnections: sum('xenstoreConnections'),
        grantFiles: this.#grants.fileCount,
        xenstoreNodes: this.#xenstore.tree.countNodes('/'),
        staleDomains: this.#staleDomains(),
      },
    };
  }

  /** Gone domains the host still keeps per-domain records for (grant-ref and port tables, toolstack nodes). */
  #staleDomains(): number {
    const kept = new Set([...this.#grants.domainsWithState(), ...this.#ports.domainsWithState(), ...this.#xenstore.introducedDomains()]);
    let stale = 0;
    for (const domid of kept) if (!this.#domains.has(domid)) stale++;
    return stale;
  }

  async close(): Promise<void> {
    if (this.#closing) return this.closed;
    this.#closing = true;
    clearTimeout(this.#idleTimer);
    for (const socket of this.#sockets) socket.destroy();
    for (const domain of [...this.#domains.values()]) this.#release(domain);
    this.#xenstore.close();
    this.#grants.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    try {
      unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
    await new Promise<void>((resolve) => this.#lock.close(() => resolve()));
    this.#resolveClosed();
  }

  #armIdleTimer(): void {
    if (this.#idleExitMs === undefined || this.#domains.size > 0 || this.#closing) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => void this.close(), this.#idleExitMs);
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    const decoder = new ControlFrameDecoder();
    let domain: HostDomain | undefined;
    const onData = (chunk: Buffer): void => {
      let messages: Request[];
      try {
        messages = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const [index, request] of messages.entries()) {
        if (request.op === 'xenstore' && domain === undefined) {
          // From here on the connection speaks xs_wire: nothing may follow the handshake frame
          // before the client has seen the reply.
          socket.removeListener('data', onData);
          const extra = index < messages.length - 1 ? Buffer.of(0) : decoder.takeRemainder();
          this.#attachXenstore(socket, request, extra);
          return;
        }
        if (request.op === 'hello' && domain === undefined) {
          domain = this.#hello(socket, request);
          continue;
        }
        if (request.op === 'bye' && domain !== undefined) {
          // A clean leave: release now and answer, so the ledger is exact once close() resolves.
          const leaving = domain;
          domain = undefined;
          this.#release(leaving, () => this.#reply(socket, request, () => ({})));
          continue;
        }
        this.#reply(socket, request, () => this.#dispatch(domain, request));
      }
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (domain !== undefined) this.#release(domain);
    });
  }

  #reply(socket: Socket, request: Request, run: () => Record<string, unknown>): void {
    let reply: Record<string, unknown>;
    try {
      reply = { id: request.id, ok: true, ...run() };
    } catch (err) {
      const e = err instanceof XenError ? err : new XenError({ code: 'EINVAL', syscall: String(request.op), message: String((err as Error).message) });
      reply = { id: request.id, error: { code: e.code, syscall: e.syscall, message: e.message } };
    }
    if (!socket.destroyed) socket.write(encodeControlFrame(reply));
  }

  #push(domid: DomId, message: HostPush): void {
    const domain = this.#domains.get(domid);
    if (domain !== undefined && !domain.socket.destroyed) domain.socket.write(encodeControlFrame(message));
  }

  #hello(socket: Socket, request: Request): HostDomain | undefined {
    let created: HostDomain | undefined;
    this.#reply(socket, request, () => {
      const pid = field(request, 'pid');
      const eventSocket = request.eventSocket;
      if (typeof eventSocket !== 'string' || !eventSocket.startsWith(EVENT_SOCKET_PREFIX)) {
        throw new XenError({ code: 'EINVAL', syscall: 'hello', message: 'eventSocket must be an abstract socket name made by eventSocketName()' });
      }
      let domid: DomId;
      if (request.domid === undefined || request.domid === null) {
        while (this.#domains.has(this.#nextDomid)) this.#nextDomid++;
        domid = this.#nextDomid++;
      } else {
        domid = field(request, 'domid');
        checkDomid(domid, 'hello');
        if (this.#domains.has(domid)) throw new XenError({ code: 'EEXIST', syscall: 'hello', message: `domain ${domid} already exists on this simulated host` });
      }
      const pendingFd = memfdCreate('xenipc-sim-pending', PORTS_PER_DOMAIN);
      created = { domid, pid, socket, token: randomBytes(16).toString('hex'), eventSocket, pendingFd };
      this.#domains.set(domid, created);
      clearTimeout(this.#idleTimer);
      this.#xenstore.introduceDomain(domid);
      return { domid, token: created.token, pendingPage: this.#file(pendingFd) };
    });
    return created;
  }

  #attachXenstore(socket: Socket, request: Request, remainder: Buffer): void {
    const domain = [...this.#domains.values()].find((d) => d.token === request.token);
    if (domain === undefined || remainder.length > 0) {
      socket.destroy();
      return;
    }
    socket.write(encodeControlFrame({ id: request.id, ok: true }));
    this.#xenstore.accept(socket, { domid: domain.domid, privileged: domain.domid === 0 });
  }

  #file(fd: number): SharedFile {
    return { pid: process.pid, fd };
  }

  #endpoint(port: HostPort): PeerEndpoint | undefined {
    const domain = this.#domains.get(port.domid);
    if (domain === undefined) return undefined;
    return { domid: port.domid, port: port.port, eventSocket: domain.eventSocket, pendingPage: this.#file(domain.pendingFd) };
  }

  #dispatch(domain: HostDomain | undefined, request: Request): Record<string, unknown> {
    const op = String(request.op);
    if (op === 'ledger') return { ledger: this.ledger() };
    if (domain === undefined) throw new XenError({ code: 'ENOTCONN', syscall: op, message: `${op} before hello` });
    const me = domain.domid;
    switch (op) {
      case 'share': {
        const peer = field(request, 'peer');
        const pageCount = field(request, 'pageCount');
        checkDomid(peer, 'IOCTL_GNTALLOC_ALLOC_GREF');
        checkPageCount(pageCount, 'IOCTL_GNTALLOC_ALLOC_GREF');
        const share = this.#grants.share(me, peer, pageCount, request.writable !== false);
        return { shareId: share.id, refs: share.refs, file: this.#file(share.fd) };
      }
      case 'unshare': {
        const share = this.#grants.ownedShare(me, field(request, 'shareId'));
        if (share !== undefined) this.#grants.unshare(share);
        return {};
      }
      case 'map': {
        const peer = field(request, 'peer');
        const refs = request.refs;
        checkDomid(peer, 'IOCTL_GNTDEV_MAP_GRANT_REF');
        if (!Array.isArray(refs) || refs.some((r) => typeof r !== 'number')) throw new XenError({ code: 'EINVAL', syscall: 'IOCTL_GNTDEV_MAP_GRANT_REF', message: 'refs must be numbers' });
        checkGrantRefs(refs as number[], 'IOCTL_GNTDEV_MAP_GRANT_REF');
        const mapping = this.#grants.map(me, peer, refs as number[], request.writable !== false, this.#domains.has(peer));
        return { mapId: mapping.id, pages: mapping.pages.map(({ share, index }) => ({ ...this.#file(share.fd), offset: index * PAGE_SIZE })) };
      }
      case 'unmap': {
        const mapping = this.#grants.mappingOf(me, field(request, 'mapId'));
        if (mapping !== undefined) this.#grants.unmap(mapping);
        return {};
      }
      case 'set-notify': {
        const isShare = request.target === 'share';
        const syscall = isShare ? 'IOCTL_GNTALLOC_SET_UNMAP_NOTIFY' : 'IOCTL_GNTDEV_SET_UNMAP_NOTIFY';
        const id = field(request, 'targetId');
        const target = isShare ? this.#grants.ownedShare(me, id) : this.#grants.mappingOf(me, id);
        if (target === undefined) throw new XenError({ code: 'ENOENT', syscall, message: 'no such share or mapping' });
        const pages = 'refs' in target ? target.refs.length : target.pages.length;
        const registration = this.#notifyRegistration(me, request, syscall);
        if (registration.clearByte !== undefined) {
          // Checked here too: the host pwrite()s this offset into a memfd when the domain dies.
          checkNotifyOffset(registration.clearByte, pages * PAGE_SIZE, syscall);
          if (!isShare && !target.writable) throw new XenError({ code: 'EINVAL', syscall, message: 'unmap-notify cannot clear a byte of a read-only mapping' });
        }
        target.notify = registration;
        return {};
      }
      case 'bind-unbound': {
        const peer = field(request, 'peer');
        checkDomid(peer, 'IOCTL_EVTCHN_BIND_UNBOUND_PORT');
        const port = this.#ports.bindUnbound(me, peer).port;
        this.#clearPending(domain, port);
        return { port };
      }
      case 'bind-interdomain': {
        const peer = field(request, 'peer');
        const remotePort = field(request, 'remotePort');
        checkDomid(peer, 'IOCTL_EVTCHN_BIND_INTERDOMAIN');
        checkPort(remotePort, 'IOCTL_EVTCHN_BIND_INTERDOMAIN');
        const [local, remote] = this.#ports.bindInterdomain(me, peer, remotePort, this.#domains.has(peer));
        this.#clearPending(domain, local.port);
        const localEndpoint = this.#endpoint(local);
        if (localEndpoint !== undefined) this.#push(peer, { push: 'connected', port: remote.port, remote: localEndpoint });
        return { port: local.port, remote: this.#endpoint(remote) };
      }
      case 'unbind': {
        const port = field(request, 'port');
        checkU32(port, 'port', 'IOCTL_EVTCHN_UNBIND');
        const orphan = this.#ports.unbind(me, port);
        if (orphan !== undefined) this.#push(orphan.domid, { push: 'disconnected', port: orphan.port });
        return {};
      }
      case 'notify': {
        this.#sendEvent(me, field(request, 'port'));
        return {};
      }
      case 'probe-domain': {
        // Xen's answer to binding port 0 of that domain: ESRCH (absent) once it is gone for good.
        // A dead domain whose pages another domain still maps lingers as a zombie until they are
        // unmapped (its shares outlive it here exactly as long), as on Xen.
        const domid = field(request, 'domid');
        checkDomid(domid, 'IOCTL_EVTCHN_BIND_INTERDOMAIN');
        const alive = this.#domains.has(domid);
        const dying = !alive && this.#grants.grantsOf(domid) > 0;
        return { presence: alive || dying ? 'present' : 'absent', dying };
      }
      case 'status': {
        const port = this.#ports.get(me, field(request, 'port'));
        return { status: port === undefined ? 'closed' : port.state };
      }
      default:
        throw new XenError({ code: 'ENOSYS', syscall: op, message: `unknown sim host operation ${op}` });
    }
  }

  #notifyRegistration(me: DomId, request: Request, syscall: string): UnmapNotifyRegistration {
    const registration: UnmapNotifyRegistration = {};
    if (request.clearByte !== undefined && request.clearByte !== null) registration.clearByte = field(request, 'clearByte');
    if (request.port !== undefined && request.port !== null) {
      const port = field(request, 'port');
      if (this.#ports.get(me, port) === undefined) {
        throw new XenError({ code: 'EINVAL', syscall, message: `port ${port} is not bound by domain ${me}` });
      }
      registration.port = port;
    }
    return registration;
  }

  /**
   * A new port starts with no event pending. Done here, before anyone can learn the port number:
   * a sender killed between setting a byte and writing its frame must not leave the byte set for
   * the port's next user (the domain itself clearing it at bind time would race with early events).
   */
  #clearPending(domain: HostDomain, port: number): void {
    writeSync(domain.pendingFd, ZERO_BYTE, 0, 1, port);
  }

  /** An event on `port` of domain `from` reaches the other end, if connected (else dropped, as Xen does). */
  #sendEvent(from: DomId, port: number): void {
    const local = this.#ports.get(from, port);
    if (local?.state !== 'interdomain' || local.remotePort === undefined) return;
    this.#push(local.remoteDomid, { push: 'event', port: local.remotePort });
  }

  #performNotify(from: DomId, registration: UnmapNotifyRegistration | undefined, fileAt: (offset: number) => [fd: number, position: number] | undefined): void {
    if (registration === undefined) return;
    if (registration.clearByte !== undefined) {
      const target = fileAt(registration.clearByte);
      try {
        if (target !== undefined) writeSync(target[0], ZERO_BYTE, 0, 1, target[1]);
      } catch {
        // the offset was validated at registration; a failing pwrite must not take the host down
      }
    }
    if (registration.port !== undefined) this.#sendEvent(from, registration.port);
  }

  /** Domain death: everything Xen and the kernel would undo, in the kernel's order. */
  #release(domain: HostDomain, beforeDisconnect?: () => void): void {
    if (this.#domains.get(domain.domid) !== domain) return;
    const me = domain.domid;
    for (const mapping of this.#grants.mappingsBy(me)) {
      this.#performNotify(me, mapping.notify, (offset) => {
        const page = mapping.pages[Math.floor(offset / PAGE_SIZE)];
        return page === undefined ? undefined : [page.share.fd, page.index * PAGE_SIZE + (offset % PAGE_SIZE)];
      });
      this.#grants.unmap(mapping);
    }
    for (const share of this.#grants.sharesOwnedBy(me)) {
      this.#performNotify(me, share.notify, (offset) => [share.fd, offset]);
      this.#grants.unshare(share);
    }
    for (const port of this.#ports.portsOf(me)) {
      const orphan = this.#ports.unbind(me, port.port);
      if (orphan !== undefined) this.#push(orphan.domid, { push: 'disconnected', port: orphan.port });
    }
    this.#grants.forgetDomain(me);
    this.#ports.forgetDomain(me);
    this.#domains.delete(me);
    closeSync(domain.pendingFd);
    this.#xenstore.releaseDomain(me);
    for (const other of this.#domains.keys()) this.#push(other, { push: 'released', domid: me });
    beforeDisconnect?.();
    domain.socket.end();
    this.#armIdleTimer();
  }
}

/** Start a simulated host in this process. Fails with EADDRINUSE if one already serves `dir`. */
export async function startSimulatedHost(options: StartSimulatedHostOptions = {}): Promise<SimulatedHost> {
  const dir = prepareSimDir(options.dir ?? defaultSimDir());
  const lock = createServer();
  try {
    await listen(lock, hostLockName(dir));
  } catch (cause) {
    throw new XenError({
      code: (cause as NodeJS.ErrnoException).code ?? 'EADDRINUSE',
      syscall: 'bind',
      path: hostSocketPath(dir),
      message: `a simulated host is already running for ${dir}`,
      cause,
    });
  }
  const host = new Host(dir, lock, options);
  await host.start();
  return host;
}
