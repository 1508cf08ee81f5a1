/**
 * The simulated xenstored: serves the xs_wire protocol on any number of byte streams, each
 * belonging to one domain (the host decides which; the protocol has no way to say). Implements
 * READ, WRITE, MKDIR, RM, DIRECTORY, GET_PERMS, SET_PERMS, WATCH, UNWATCH, TRANSACTION_START/END
 * (optimistic: a commit fails with EAGAIN if anything the transaction looked at changed since it
 * started, as C xenstored does since Xen 4.9), GET_DOMAIN_PATH; the special watches
 * @introduceDomain and @releaseDomain; per-connection quotas of 128 watches (E2BIG) and 10
 * open transactions (ENOSPC), xenstored's defaults.
 *
 * Special watches follow C xenstored of Xen 4.17 (tools/xenstore/, tag RELEASE-4.17.0):
 * - any domain may register a watch on any "@..." name (xenstored_watch.c:191, check_watch_path),
 *   and, like every watch, it fires once at registration whatever the caller may read
 *   (xenstored_watch.c:277, "We fire once up front");
 * - afterwards @introduceDomain/@releaseDomain events go only to connections with read access to
 *   the special node's permissions (xenstored_watch.c:157-158 -> check_perms_special,
 *   xenstored_domain.c:879-888), which default to "n0" (xenstored_domain.c:837-847, 944): dom0
 *   and privileged domains hear them, a domU does not, unless dom0 grants it read with
 *   SET_PERMS (`xenstore-chmod @releaseDomain n0 r<domid>`; needs write+owner access,
 *   set_perms_special, xenstored_domain.c:858-877); a dead domain's entries are dropped from
 *   those permissions (remove_domid_from_perm, xenstored_domain.c:302-303).
 */
import type { Duplex } from 'node:stream';
import { domainPath, type DomId, type XsPermission } from '@xenipc/core';
import {
  allowsRead,
  encodeXsMessage,
  formatXsPermission,
  isAtOrBelow,
  isSpecialPath,
  nulTerminated,
  parseXsPermission,
  relativeTo,
  resolveXsPath,
  splitNul,
  XsFrameDecoder,
  type XsMessage,
  XsMessageType,
} from '@xenipc/core/backend-kit';
import { permissionFor, XsStoreError, XsTree, type XsCaller, type XsNode } from './xs-tree.js';

export const XS_DEFAULT_WATCH_QUOTA = 128;
export const XS_DEFAULT_TRANSACTION_QUOTA = 10;
const SPECIAL_PATHS = ['@introduceDomain', '@releaseDomain'] as const;

export interface XenStoreServerOptions {
  maxWatchesPerConnection?: number;
  maxTransactionsPerConnection?: number;
}

type ChangeKind = 'write' | 'mkdir' | 'rm' | 'perms';

interface Watch {
  /** The path as the client gave it (events are reported relative if it was relative). */
  path: string;
  absolute: string;
  token: string;
}

interface Transaction {
  /** The transaction's private copy: its reads see the store as it started, plus its own changes. */
  view: XsTree;
  /**
   * The store as the transaction started, never changed. Conflicts are judged against it: the
   * view cannot say, because the transaction's own writes (creating a directory, removing a
   * subtree) change the view's nodes and generations.
   */
  start: XsTree;
  /** Every path the transaction depended on. */
  accessed: Set<string>;
  /** The transaction's changes, replayed on the live tree at commit. */
  changes: Array<(server: XenStoreServer) => void>;
}

class ServerConnection {
  readonly decoder = new XsFrameDecoder();
  readonly watches: Watch[] = [];
  readonly transactions = new Map<number, Transaction>();
  nextTransactionId = 1;
  constructor(readonly stream: Duplex, readonly caller: XsCaller) {}

  send(type: number, reqId: number, txId: number, payload: Buffer): void {
    if (!this.stream.destroyed) this.stream.write(encodeXsMessage(type, reqId, txId, payload));
  }
}

function badRequest(): XsStoreError {
  return new XsStoreError('EINVAL');
}

export class XenStoreServer {
  readonly tree = new XsTree();
  readonly #connections = new Set<ServerConnection>();
  readonly #specialPerms = new Map<string, XsPermission[]>(SPECIAL_PATHS.map((p) => [p, [{ domid: 0, perm: 'none' }]]));
  readonly #maxWatches: number;
  readonly #maxTransactions: number;
  /** Paths the toolstack wrote (introduceDomain). */
  readonly #installed = new Set<string>();

  constructor(options: XenStoreServerOptions = {}) {
    this.#maxWatches = options.maxWatchesPerConnection ?? XS_DEFAULT_WATCH_QUOTA;
    this.#maxTransactions = options.maxTransactionsPerConnection ?? XS_DEFAULT_TRANSACTION_QUOTA;
    this.tree.install('/local', '', [{ domid: 0, perm: 'none' }]);
    this.tree.install('/local/domain', '', [{ domid: 0, perm: 'none' }]);
  }

  /** Serve xs_wire on `stream` for `caller`'s domain. The stream is destroyed on a protocol error. */
  accept(stream: Duplex, caller: XsCaller): void {
    const connection = new ServerConnection(stream, caller);
    this.#connections.add(connection);
    stream.on('data', (chunk: Buffer) => {
      let messages: XsMessage[];
      try {
        messages = connection.decoder.push(chunk);
      } catch {
        stream.destroy(); // xenstored drops a client that breaks the framing
        return;
      }
      for (const message of messages) this.#handle(connection, message);
    });
    const forget = (): void => {
      this.#connections.delete(connection);
    };
    stream.on('close', forget);
    stream.on('error', forget);
  }

  /** The toolstack's part of creating a domain: its home in the store, then @introduceDomain. */
  introduceDomain(domid: DomId): void {
    const home = domainPath(domid);
    const readOnly: XsPermission[] = domid === 0 ? [{ domid: 0, perm: 'none' }] : [{ domid: 0, perm: 'none' }, { domid, perm: 'read' }];
    this.#install(home, '', readOnly);
    this.#install(`${home}/domid`, String(domid), readOnly);
    this.#install(`${home}/name`, domid === 0 ? 'Domain-0' : `sim-${domid}`, readOnly);
    this.#install(`${home}/data`, '', [{ domid, perm: 'none' }]);
    this.fireWatches(home, undefined);
    this.#fireSpecial('@introduceDomain');
  }

  /** The toolstack writes a node (not a leak: leftovers() skips it). */
  #install(path: string, value: string, perms: readonly XsPermission[]): void {
    this.tree.install(path, value, perms);
    this.#installed.add(path);
  }

  /** Domain destroy: its subtree goes (watchers are told) and @releaseDomain fires. */
  releaseDomain(domid: DomId): void {
    const home = domainPath(domid);
    for (const path of [...this.#installed]) if (isAtOrBelow(path, home)) this.#installed.delete(path);
    const removed = this.tree.rm({ domid: 0, privileged: true }, home);
    if (removed !== undefined) this.fireWatches(home, removed);
    for (const connection of this.#connections) {
      if (connection.caller.domid === domid) connection.stream.destroy();
    }
    // remove_domid_from_perm: a later domain with the same id does not inherit the grant.
    for (const [name, perms] of this.#specialPerms) {
      const kept = perms.filter((p, index) => index === 0 || p.domid !== domid);
      if (kept.length !== perms.length) this.#specialPerms.set(name, kept);
    }
    this.#fireSpecial('@releaseDomain');
  }

  /** Domains whose toolstack nodes this server still remembers (introduced and not released). */
  introducedDomains(): Set<DomId> {
    const domids = new Set<DomId>();
    for (const path of this.#installed) {
      const match = /^\/local\/domain\/(\d+)$/.exec(path);
      if (match !== null) domids.add(Number(match[1]));
    }
    return domids;
  }

  /** Watches registered by connections of `domid` (for the leak ledger). */
  watchCount(domid: DomId): number {
    let count = 0;
    for (const connection of this.#connections) if (connection.caller.domid === domid) count += connection.watches.length;
    return count;
  }

  /** Open xs_wire connections of `domid` (for the leak ledger). */
  connectionCount(domid: DomId): number {
    let count = 0;
    for (const connection of this.#connections) if (connection.caller.domid === domid) count++;
    return count;
  }

  transactionCount(domid: DomId): number {
    let count = 0;
    for (const connection of this.#connections) if (connection.caller.domid === domid) count += connection.transactions.size;
    return count;
  }

  /**
   * What clients left behind, for leak checks: nodes holding a value that the toolstack did not
   * install (a domain's home, domid, name and data are the toolstack's), every watch, and the
   * number of open transactions.
   */
  leftovers(): { nodes: string[]; watches: string[]; transactions: number } {
    const nodes: string[] = [];
    const walk = (node: XsNode, path: string): void => {
      if (node.value !== '' && !this.#installed.has(path)) nodes.push(path);
      for (const [name, child] of node.children) walk(child, `${path === '/' ? '' : path}/${name}`);
    };
    const root = this.tree.lookup('/');
    if (root !== undefined) walk(root, '/');
    const watches: string[] = [];
    let transactions = 0;
    for (const connection of this.#connections) {
      for (const watch of connection.watches) watches.push(`${watch.path} (${watch.token}, dom${connection.caller.domid})`);
      transactions += connection.transactions.size;
    }
    return { nodes, watches, transactions };
  }

  close(): void {
    for (const connection of this.#connections) connection.stream.destroy();
    this.#connections.clear();
  }

  /**
   * Tell watchers about a change at `path`. `removed` is the node an RM took away (then watches
   * below it fire too, with their own path); otherwise the node is read from the live tree.
   * A watcher only hears about nodes it may read.
   */
  fireWatches(path: string, removed: XsNode | undefined): void {
    const node = removed ?? this.tree.lookup(path);
    for (const connection of this.#connections) {
      for (const watch of connection.watches) {
        let reported: string | undefined;
        if (isAtOrBelow(path, watch.absolute)) {
          reported = watch.path.startsWith('/') ? path : relativeTo(path, connection.caller.domid);
        } else if (removed !== undefined && isAtOrBelow(watch.absolute, path)) {
          reported = watch.path;
        }
        if (reported === undefined) continue;
        if (node !== undefined && !allowsRead(permissionFor(node, connection.caller))) continue;
        connection.send(XsMessageType.WATCH_EVENT, 0, 0, nulTerminated(reported, watch.token));
      }
    }
  }

  #fireSpecial(name: string): void {
    for (const connection of this.#connections) {
      if (!this.#mayWatchSpecial(connection.caller, name)) continue;
      for (const watch of connection.watches) {
        if (watch.absolute === name) connection.send(XsMessageType.WATCH_EVENT, 0, 0, nulTerminated(watch.path, watch.token));
      }
    }
  }

  #mayWatchSpecial(caller: XsCaller, name: string): boolean {
    const perms = this.#specialPerms.get(name);
    if (perms === undefined) return false;
    return allowsRead(permissionFor({ value: '', perms, children: new Map(), generation: 0 }, caller));
  }

  #handle(connection: ServerConnection, message: XsMessage): void {
    try {
      const reply = this.#execute(connection, message);
      connection.send(message.type, message.reqId, message.txId, reply);
      if (message.type === XsMessageType.WATCH) this.#fireInitialWatch(connection, message);
    } catch (err) {
      const code = err instanceof XsStoreError ? err.code : 'EIO';
      connection.send(XsMessageType.ERROR, message.reqId, message.txId, nulTerminated(code));
    }
  }

  #execute(connection: ServerConnection, message: XsMessage): Buffer {
    const { caller } = connection;
    const args = splitNul(message.payload);
    const ok = nulTerminated('OK');
    switch (message.type) {
      case XsMessageType.READ:
        return Buffer.from(this.#inTransaction(connection, message, (tree) => tree.read(caller, this.#path(caller, args[0]))), 'utf8');
      case XsMessageType.DIRECTORY:
        return nulTerminated(...this.#inTransaction(connection, message, (tree) => tree.directory(caller, this.#path(caller, args[0]))));
      case XsMessageType.GET_PERMS: {
        const path = this.#resolve(caller, args[0]);
        const perms = isSpecialPath(path)
          ? (this.#specialPerms.get(path) ?? [])
          : this.#inTransaction(connection, message, (tree) => tree.getPerms(caller, path));
        return nulTerminated(...perms.map(formatXsPermission));
      }
      case XsMessageType.WRITE: {
        const nul = message.payload.indexOf(0);
        if (nul < 0) throw badRequest();
        const path = this.#path(caller, message.payload.subarray(0, nul).toString('utf8'));
        const value = message.payload.subarray(nul + 1).toString('utf8');
        this.#change(connection, message, path, 'write', (tree) => tree.write(caller, path, value));
        return ok;
      }
      case XsMessageType.MKDIR: {
        const path = this.#path(caller, args[0]);
        this.#change(connection, message, path, 'mkdir', (tree) => tree.mkdir(caller, path));
        return ok;
      }
      case XsMessageType.RM: {
        const path = this.#path(caller, args[0]);
        this.#change(connection, message, path, 'rm', (tree) => tree.rm(caller, path));
        return ok;
      }
      case XsMessageType.SET_PERMS: {
        const path = this.#resolve(caller, args[0]);
        const perms = args.slice(1).map((text) => parseXsPermission(text));
        if (perms.length === 0 || perms.some((p) => p === undefined)) throw badRequest();
        const valid = perms as XsPermission[];
        if (isSpecialPath(path)) {
          // set_perms_special: EINVAL for other "@" names, else write + owner access needed.
          const current = this.#specialPerms.get(path);
          if (current === undefined) throw badRequest();
          const owner = current[0];
          const isOwner = caller.privileged || owner === undefined || owner.domid === caller.domid;
          if (!isOwner) throw new XsStoreError('EACCES');
          this.#specialPerms.set(path, valid);
          return ok;
        }
        this.#change(connection, message, path, 'perms', (tree) => tree.setPerms(caller, path, valid));
        return ok;
      }
      case XsMessageType.WATCH:
        this.#addWatch(connection, args[0], args[1]);
        return ok;
      case XsMessageType.UNWATCH: {
        const index = connection.watches.findIndex((w) => w.path === args[0] && w.token === args[1]);
        if (index < 0) throw new XsStoreError('ENOENT');
        connection.watches.splice(index, 1);
        return ok;
      }
      case XsMessageType.TRANSACTION_START: {
        if (message.txId !== 0) throw new XsStoreError('EBUSY');
        if (connection.transactions.size >= this.#maxTransactions) throw new XsStoreError('ENOSPC');
        const id = connection.nextTransactionId;
        connection.nextTransactionId = id >= 0xffff_fffe ? 1 : id + 1;
        const view = this.tree.snapshot();
        const transaction: Transaction = { view, start: this.tree.snapshot(), accessed: new Set(), changes: [] };
        view.recordAccess = (path) => transaction.accessed.add(path);
        connection.transactions.set(id, transaction);
        return nulTerminated(String(id));
      }
      case XsMessageType.TRANSACTION_END: {
        const transaction = connection.transactions.get(message.txId);
        if (transaction === undefined) throw new XsStoreError('ENOENT');
        if (args[0] !== 'T' && args[0] !== 'F') throw badRequest();
        connection.transactions.delete(message.txId);
        if (args[0] === 'T') this.#commit(transaction);
        return ok;
      }
      case XsMessageType.GET_DOMAIN_PATH: {
        const text = args[0] ?? '';
        if (!/^[0-9]{1,5}$/.test(text)) throw badRequest();
        return nulTerminated(domainPath(Number(text)));
      }
      default:
        throw new XsStoreError('ENOSYS');
    }
  }

  #resolve(caller: XsCaller, path: string | undefined): string {
    const absolute = path === undefined ? undefined : resolveXsPath(path, caller.domid);
    if (absolute === undefined) throw badRequest();
    return absolute;
  }

  /** A path naming a real node ("@" names only work with watches and perms). */
  #path(caller: XsCaller, path: string | undefined): string {
    const absolute = this.#resolve(caller, path);
    if (isSpecialPath(absolute)) throw badRequest();
    return absolute;
  }

  #transaction(connection: ServerConnection, txId: number): Transaction | undefined {
    if (txId === 0) return undefined;
    const transaction = connection.transactions.get(txId);
    if (transaction === undefined) throw new XsStoreError('ENOENT');
    return transaction;
  }

  #inTransaction<T>(connection: ServerConnection, message: XsMessage, read: (tree: XsTree) => T): T {
    return read(this.#transaction(connection, message.txId)?.view ?? this.tree);
  }

  /** Apply a change now (and tell watchers), or inside the transaction (replayed at commit). */
  #change(connection: ServerConnection, message: XsMessage, path: string, kind: ChangeKind, apply: (tree: XsTree) => unknown): void {
    const transaction = this.#transaction(connection, message.txId);
    if (transaction !== undefined) {
      apply(transaction.view);
      transaction.changes.push((server) => server.#applyLive(path, apply, kind));
      return;
    }
    this.#applyLive(path, apply, kind);
  }

  #applyLive(path: string, apply: (tree: XsTree) => unknown, kind: ChangeKind): void {
    const result = apply(this.tree);
    if (kind === 'rm') {
      if (result !== undefined) this.fireWatches(path, result as XsNode);
    } else if (kind !== 'mkdir' || result === true) {
      // an MKDIR of an existing node changes nothing and fires nothing, as in xenstored
      this.fireWatches(path, undefined);
    }
  }

  /**
   * EAGAIN when any path the transaction depended on is not as it was when the transaction
   * started (changed, created or removed since); otherwise its changes are replayed, firing watches.
   */
  #commit(transaction: Transaction): void {
    for (const path of transaction.accessed) {
      if (this.tree.generationOf(path) !== transaction.start.generationOf(path)) throw new XsStoreError('EAGAIN');
    }
    for (const change of transaction.changes) change(this);
  }

  #addWatch(connection: ServerConnection, path: string | undefined, token: string | undefined): void {
    if (path === undefined || token === undefined) throw badRequest();
    // Any "@" name is accepted (check_watch_path); only the two known ones ever fire again.
    const absolute = this.#resolve(connection.caller, path);
    if (connection.watches.some((w) => w.path === path && w.token === token)) throw new XsStoreError('EEXIST');
    if (connection.watches.length >= this.#maxWatches) throw new XsStoreError('E2BIG');
    connection.watches.push({ path, absolute, token });
  }

  /**
   * xenstored fires every new watch once, unconditionally: for special names and for nodes the
   * watcher may not read or that do not exist (C: xenstored_watch.c:277-283, do_watch; oxenstored:
   * process.ml:509-520 do_watch).
   * So the first event tells the watcher nothing; only later ones do.
   */
  #fireInitialWatch(connection: ServerConnection, message: XsMessage): void {
    const [path, token] = splitNul(message.payload);
    if (path === undefined || token === undefined) return;
    connection.send(XsMessageType.WATCH_EVENT, 0, 0, nulTerminated(path, token));
  }
}
