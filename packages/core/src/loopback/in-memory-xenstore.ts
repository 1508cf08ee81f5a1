/**
 * An in-memory xenstore shared by the domains of one loopback host, and the per-connection
 * client (`LoopbackXenStore`) that implements the XenStore interface over it.
 *
 * Enough of xenstored for vchan rendezvous and its tests: a tree of nodes with values and
 * permissions (owner first, dom0 sees everything), watches that fire once when set and then on
 * every change at or below the watched path (plus @releaseDomain / @introduceDomain), and
 * optimistic transactions that fail with EAGAIN when a node they touched changed meanwhile.
 */
import { EventEmitter } from 'eventemitter3';
import type {
  DomId,
  XenStore,
  XenStoreEvents,
  XsPermission,
  XsPermissionKind,
  XsTransaction,
} from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';
import { runTransaction } from '../xenstore/run-transaction.js';

interface XsNode {
  value: string;
  perms: XsPermission[];
  children: Map<string, XsNode>;
  /** Written by the host itself (domain skeleton), not by a client: not a leak. */
  system: boolean;
}

function newNode(value: string, perms: XsPermission[], system = false): XsNode {
  return { value, perms: perms.map((p) => ({ ...p })), children: new Map(), system };
}

function cloneTree(node: XsNode): XsNode {
  const copy = newNode(node.value, node.perms, node.system);
  for (const [name, child] of node.children) copy.children.set(name, cloneTree(child));
  return copy;
}

function xsError(code: string, op: string, message: string, path?: string): XenError {
  return new XenError({ code, syscall: `xenstore ${op}`, message, ...(path === undefined ? {} : { path }) });
}

function canAccess(perms: readonly XsPermission[], domid: DomId, want: 'read' | 'write'): boolean {
  const owner = perms[0];
  if (domid === 0 || owner === undefined || owner.domid === domid) return true;
  const entry = perms.slice(1).find((p) => p.domid === domid);
  const kind: XsPermissionKind = entry?.perm ?? owner.perm;
  return kind === 'both' || kind === want;
}

function isBelowOrAt(path: string, base: string): boolean {
  return path === base || path.startsWith(base.endsWith('/') ? base : `${base}/`);
}

interface Watch {
  conn: XenStoreConnection;
  path: string;
  token: string;
}

/** One client connection's hooks into the shared store. */
interface XenStoreConnection {
  readonly domid: DomId;
  deliver(path: string, token: string): void;
}

interface OpenTransaction {
  conn: XenStoreConnection;
  tree: XsNode;
  startGeneration: number;
  touched: Set<string>;
  ops: Array<(store: InMemoryXenStoreData) => void>;
}

/** The store itself: one per loopback host. */
export class InMemoryXenStoreData {
  private root: XsNode = newNode('', [{ domid: 0, perm: 'none' }], true);
  private generation = 0;
  private readonly lastChange = new Map<string, number>();
  private readonly watches: Watch[] = [];
  private readonly transactions = new Map<number, OpenTransaction>();
  private nextTx = 1;
  /** Test hook: this many upcoming commits fail with EAGAIN (to exercise retry loops). */
  failNextCommits = 0;

  constructor() {
    this.ensureSystemPath('/local/domain', [{ domid: 0, perm: 'read' }]);
  }

  /** Create /local/domain/<domid> (owned by the domain, like the toolstack does). */
  introduceDomain(domid: DomId): void {
    const home = `/local/domain/${domid}`;
    if (this.lookup(this.root, home) !== undefined) return;
    this.ensureSystemPath(home, [{ domid, perm: 'none' }]);
    const idNode = newNode(String(domid), [{ domid, perm: 'none' }], true);
    this.lookup(this.root, home)?.children.set('domid', idNode);
    this.fire('@introduceDomain', false);
  }

  /** The toolstack's cleanup after a domain died: remove its home and fire @releaseDomain. */
  releaseDomain(domid: DomId): void {
    const home = `/local/domain/${domid}`;
    if (this.lookup(this.root, home) !== undefined) this.applyRm(this.root, home, true);
    this.fire('@releaseDomain', false);
  }

  private ensureSystemPath(path: string, perms: XsPermission[]): void {
    let node = this.root;
    for (const part of path.split('/').filter(Boolean)) {
      let child = node.children.get(part);
      if (child === undefined) {
        child = newNode('', perms, true);
        node.children.set(part, child);
      }
      node = child;
    }
  }

  private lookup(root: XsNode, path: string): XsNode | undefined {
    let node: XsNode | undefined = root;
    for (const part of path.split('/').filter(Boolean)) {
      node = node.children.get(part);
      if (node === undefined) return undefined;
    }
    return node;
  }

  private treeFor(tx: XsTransaction, op: string): { tree: XsNode; open: OpenTransaction | undefined } {
    if (tx === 0) return { tree: this.root, open: undefined };
    const open = this.transactions.get(tx);
    if (open === undefined) throw xsError('ENOENT', op, `transaction ${tx} does not exist`);
    return { tree: open.tree, open };
  }

  private touch(path: string): void {
    this.generation += 1;
    this.lastChange.set(path, this.generation);
  }

  read(conn: XenStoreConnection, path: string, tx: XsTransaction): string {
    const { tree, open } = this.treeFor(tx, 'read');
    const node = this.lookup(tree, path);
    if (node === undefined) throw xsError('ENOENT', 'read', `no xenstore node ${path}`, path);
    if (!canAccess(node.perms, conn.domid, 'read')) throw xsError('EACCES', 'read', `domain ${conn.domid} may not read ${path}`, path);
    open?.touched.add(path);
    return node.value;
  }

  directory(conn: XenStoreConnection, path: string, tx: XsTransaction): string[] {
    const { tree, open } = this.treeFor(tx, 'directory');
    const node = this.lookup(tree, path);
    if (node === undefined) throw xsError('ENOENT', 'directory', `no xenstore node ${path}`, path);
    if (!canAccess(node.perms, conn.domid, 'read')) throw xsError('EACCES', 'directory', `domain ${conn.domid} may not list ${path}`, path);
    open?.touched.add(path);
    return [...node.children.keys()];
  }

  getPerms(conn: XenStoreConnection, path: string, tx: XsTransaction): XsPermission[] {
    const { tree } = this.treeFor(tx, 'get_perms');
    const node = this.lookup(tree, path);
    if (node === undefined) throw xsError('ENOENT', 'get_perms', `no xenstore node ${path}`, path);
    if (!canAccess(node.perms, conn.domid, 'read')) throw xsError('EACCES', 'get_perms', `domain ${conn.domid} may not read ${path}`, path);
    return node.perms.map((p) => ({ ...p }));
  }

  /** write (value !== undefined) or mkdir (value undefined: creates if missing, keeps value). */
  write(conn: XenStoreConnection, path: string, value: string | undefined, tx: XsTransaction): void {
    const op = value === undefined ? 'mkdir' : 'write';
    const { tree, open } = this.treeFor(tx, op);
    this.applyWrite(tree, conn.domid, path, value, op);
    if (open !== undefined) {
      open.touched.add(path);
      open.ops.push((store) => store.applyWrite(store.root, conn.domid, path, value, op));
    } else {
      this.touch(path);
      this.fire(path, false);
    }
  }

  private applyWrite(tree: XsNode, domid: DomId, path: string, value: string | undefined, op: string): void {
    const parts = path.split('/').filter(Boolean);
    let node = tree;
    for (const part of parts) {
      let child = node.children.get(part);
      if (child === undefined) {
        if (!canAccess(node.perms, domid, 'write')) throw xsError('EACCES', op, `domain ${domid} may not create ${path}`, path);
        // xenstored: a new node inherits its parent's permissions, owned by its creator.
        const inherited = node.perms.map((p) => ({ ...p }));
        if (domid !== 0 && inherited[0] !== undefined) inherited[0] = { domid, perm: inherited[0].perm };
        child = newNode('', inherited);
        node.children.set(part, child);
      }
      node = child;
    }
    if (value !== undefined) {
      if (!canAccess(node.perms, domid, 'write')) throw xsError('EACCES', op, `domain ${domid} may not write ${path}`, path);
      node.value = value;
      node.system = false;
    }
  }

  rm(conn: XenStoreConnection, path: string, tx: XsTransaction): void {
    const { tree, open } = this.treeFor(tx, 'rm');
    const node = this.lookup(tree, path);
    if (node === undefined) throw xsError('ENOENT', 'rm', `no xenstore node ${path}`, path);
    const parentPath = path.split('/').filter(Boolean).slice(0, -1).join('/');
    const parent = this.lookup(tree, `/${parentPath}`);
    if (!canAccess(node.perms, conn.domid, 'write') && !(parent !== undefined && canAccess(parent.perms, conn.domid, 'write'))) {
      throw xsError('EACCES', 'rm', `domain ${conn.domid} may not remove ${path}`, path);
    }
    if (open !== undefined) {
      this.applyRm(tree, path, false);
      open.touched.add(path);
      open.ops.push((store) => store.applyRm(store.root, path, true));
    } else {
      this.applyRm(tree, path, true);
    }
  }

  private applyRm(tree: XsNode, path: string, live: boolean): void {
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop();
    const parent = this.lookup(tree, `/${parts.join('/')}`);
    if (name === undefined || parent === undefined || !parent.children.has(name)) return;
    parent.children.delete(name);
    if (live) {
      this.touch(path);
      this.fire(path, true);
    }
  }

  setPerms(conn: XenStoreConnection, path: string, perms: readonly XsPermission[], tx: XsTransaction): void {
    const { tree, open } = this.treeFor(tx, 'set_perms');
    const node = this.lookup(tree, path);
    if (node === undefined) throw xsError('ENOENT', 'set_perms', `no xenstore node ${path}`, path);
    const owner = node.perms[0]?.domid;
    if (conn.domid !== 0 && owner !== conn.domid) throw xsError('EACCES', 'set_perms', `only the owner may change permissions of ${path}`, path);
    if (perms.length === 0) throw xsError('EINVAL', 'set_perms', 'a permission list needs at least the owner entry', path);
    const apply = (n: XsNode): void => {
      n.perms = perms.map((p) => ({ ...p }));
    };
    apply(node);
    if (open !== undefined) {
      open.touched.add(path);
      open.ops.push((store) => {
        const live = store.lookup(store.root, path);
        if (live !== undefined) apply(live);
      });
    } else {
      this.touch(path);
      this.fire(path, false);
    }
  }

  watch(conn: XenStoreConnection, path: string, token: string): void {
    this.watches.push({ conn, path, token });
    queueMicrotask(() => conn.deliver(path, token));
  }

  unwatch(conn: XenStoreConnection, path: string, token: string): void {
    const i = this.watches.findIndex((w) => w.conn === conn && w.path === path && w.token === token);
    if (i < 0) throw xsError('ENOENT', 'unwatch', `no watch on ${path} with token ${token}`, path);
    this.watches.splice(i, 1);
  }

  transactionStart(conn: XenStoreConnection): number {
    const id = this.nextTx++;
    this.transactions.set(id, { conn, tree: cloneTree(this.root), startGeneration: this.generation, touched: new Set(), ops: [] });
    return id;
  }

  transactionEnd(tx: XsTransaction, commit: boolean): void {
    const open = this.transactions.get(tx);
    if (open === undefined) throw xsError('ENOENT', 'transaction_end', `transaction ${tx} does not exist`);
    this.transactions.delete(tx);
    if (!commit) return;
    if (this.failNextCommits > 0) {
      this.failNextCommits -= 1;
      throw xsError('EAGAIN', 'transaction_end', 'the transaction conflicted with another change; retry it');
    }
    for (const path of open.touched) {
      for (const [changed, gen] of this.lastChange) {
        if (gen > open.startGeneration && (isBelowOrAt(changed, path) || isBelowOrAt(path, changed))) {
          throw xsError('EAGAIN', 'transaction_end', `${changed} changed during the transaction; retry it`);
        }
      }
    }
    for (const op of open.ops) op(this);
    // Watches see the writes of a committed transaction only now, all together.
    for (const path of open.touched) if (this.lookup(this.root, path) !== undefined) {
      this.touch(path);
      this.fire(path, false);
    }
  }

  /** Forget everything a connection holds (its watches and open transactions). */
  disconnect(conn: XenStoreConnection): void {
    for (let i = this.watches.length - 1; i >= 0; i--) if (this.watches[i]?.conn === conn) this.watches.splice(i, 1);
    for (const [id, t] of this.transactions) if (t.conn === conn) this.transactions.delete(id);
  }

  private fire(path: string, removed: boolean): void {
    const node = path.startsWith('@') ? undefined : this.lookup(this.root, path);
    for (const w of [...this.watches]) {
      const at = isBelowOrAt(path, w.path);
      const parentRemoved = removed && isBelowOrAt(w.path, path);
      if (!at && !parentRemoved) continue;
      if (node !== undefined && !canAccess(node.perms, w.conn.domid, 'read')) continue;
      const eventPath = at ? path : w.path;
      queueMicrotask(() => w.conn.deliver(eventPath, w.token));
    }
  }

  /** What clients left behind: node paths with values they wrote, watches, open transactions. */
  leftovers(): { nodes: string[]; watches: string[]; transactions: number } {
    const nodes: string[] = [];
    const walk = (node: XsNode, path: string): void => {
      if (!node.system && node.value !== '') nodes.push(path);
      for (const [name, child] of node.children) walk(child, `${path}/${name}`);
    };
    walk(this.root, '');
    return { nodes, watches: this.watches.map((w) => `${w.path} (${w.token}, dom${w.conn.domid})`), transactions: this.transactions.size };
  }
}

/** A domain's xenstore connection (the XenStore interface) over the shared in-memory store. */
export class LoopbackXenStore extends EventEmitter<XenStoreEvents> implements XenStore, XenStoreConnection {
  private closed = false;

  constructor(
    private readonly store: InMemoryXenStoreData,
    readonly domid: DomId,
  ) {
    super();
  }

  deliver(path: string, token: string): void {
    if (!this.closed) this.emit('watch', { path, token });
  }

  private resolve(path: string): string {
    if (path.startsWith('/') || path.startsWith('@')) return path;
    return `/local/domain/${this.domid}/${path}`;
  }

  private run<T>(op: string, fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(xsError('EBADF', op, 'the xenstore connection is closed'));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  read(path: string, tx: XsTransaction = 0): Promise<string> {
    return this.run('read', () => this.store.read(this, this.resolve(path), tx));
  }
  write(path: string, value: string, tx: XsTransaction = 0): Promise<void> {
    return this.run('write', () => this.store.write(this, this.resolve(path), value, tx));
  }
  mkdir(path: string, tx: XsTransaction = 0): Promise<void> {
    return this.run('mkdir', () => this.store.write(this, this.resolve(path), undefined, tx));
  }
  rm(path: string, tx: XsTransaction = 0): Promise<void> {
    return this.run('rm', () => this.store.rm(this, this.resolve(path), tx));
  }
  directory(path: string, tx: XsTransaction = 0): Promise<string[]> {
    return this.run('directory', () => this.store.directory(this, this.resolve(path), tx));
  }
  getPerms(path: string, tx: XsTransaction = 0): Promise<XsPermission[]> {
    return this.run('get_perms', () => this.store.getPerms(this, this.resolve(path), tx));
  }
  setPerms(path: string, perms: readonly XsPermission[], tx: XsTransaction = 0): Promise<void> {
    return this.run('set_perms', () => this.store.setPerms(this, this.resolve(path), perms, tx));
  }
  watch(path: string, token: string): Promise<void> {
    return this.run('watch', () => this.store.watch(this, this.resolve(path), token));
  }
  unwatch(path: string, token: string): Promise<void> {
    return this.run('unwatch', () => this.store.unwatch(this, this.resolve(path), token));
  }
  transactionStart(): Promise<XsTransaction> {
    return this.run('transaction_start', () => this.store.transactionStart(this));
  }
  transactionEnd(tx: XsTransaction, commit: boolean): Promise<void> {
    return this.run('transaction_end', () => this.store.transactionEnd(tx, commit));
  }

  transaction<T>(fn: (tx: XsTransaction) => Promise<T>, retries?: number): Promise<T> {
    return runTransaction(this, fn, retries);
  }

  getDomainPath(domid: DomId): Promise<string> {
    return this.run('get_domain_path', () => `/local/domain/${domid}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.disconnect(this);
    this.emit('close');
  }
}
