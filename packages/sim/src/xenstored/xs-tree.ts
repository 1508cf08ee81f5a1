/**
 * The data store of the simulated xenstored: a tree of nodes with values and permissions, with
 * the access rules of docs/misc/xenstore.txt and C xenstored:
 * - a privileged caller (dom0) may do anything; a node's owner (first perm entry) has full
 *   access; other domains get their own entry if listed, else the owner entry's default;
 * - a missing node answers ENOENT only to callers allowed to read its nearest existing ancestor
 *   (EACCES otherwise, so paths cannot be probed): see missingNodeError() for the exact rule, the
 *   one every store model of this project must follow;
 * - creating a node needs write access to its nearest existing ancestor; new nodes inherit their
 *   parent's permissions, owned by the creating domain when it is unprivileged.
 * Every change bumps the node's generation (from one counter per tree, so a node that is removed
 * and created again never gets its old generation back); transactions compare generations to find
 * conflicts.
 */
import type { DomId, XsPermission, XsPermissionKind } from '@xenipc/core';
import { allowsRead, allowsWrite, parentPath, pathComponents } from '@xenipc/core/backend-kit';

/** A failed store operation; `code` is the errno name sent back in an XS_ERROR reply. */
export class XsStoreError extends Error {
  override readonly name = 'XsStoreError';
  constructor(readonly code: string, message?: string) {
    super(message ?? code);
  }
}

export interface XsCaller {
  domid: DomId;
  privileged: boolean;
}

export interface XsNode {
  value: string;
  perms: XsPermission[];
  children: Map<string, XsNode>;
  /** Generation of the last change to this node (value, perms or list of children). */
  generation: number;
}

/**
 * Called with every absolute path an operation depends on: each node it looks up (also a missing
 * one), the nearest existing ancestor a creation changes, every node of a subtree an RM takes away.
 * The recorder judges conflicts by the path's state when the transaction started, never by what
 * the transaction's own view holds now (the view changes as the transaction writes).
 */
export type XsAccessRecorder = (path: string) => void;

export function permissionFor(node: XsNode, caller: XsCaller): XsPermissionKind {
  if (caller.privileged) return 'both';
  const [owner, ...others] = node.perms;
  if (owner === undefined || owner.domid === caller.domid) return 'both';
  return others.find((entry) => entry.domid === caller.domid)?.perm ?? owner.perm;
}

function cloneNode(node: XsNode): XsNode {
  const children = new Map<string, XsNode>();
  for (const [name, child] of node.children) children.set(name, cloneNode(child));
  return { value: node.value, perms: node.perms.map((p) => ({ ...p })), children, generation: node.generation };
}

export class XsTree {
  #root: XsNode;
  #generation: number;
  /** Set on a transaction's private copy to learn which paths it depended on. */
  recordAccess: XsAccessRecorder | undefined;

  constructor(root?: XsNode, generation = 0) {
    this.#root = root ?? { value: '', perms: [{ domid: 0, perm: 'none' }], children: new Map(), generation: 0 };
    this.#generation = generation;
  }

  /** A private deep copy (a transaction's view). */
  snapshot(): XsTree {
    return new XsTree(cloneNode(this.#root), this.#generation);
  }

  /** The node at an absolute path, without permission checks. */
  lookup(path: string): XsNode | undefined {
    let node: XsNode | undefined = this.#root;
    for (const name of pathComponents(path)) {
      node = node.children.get(name);
      if (node === undefined) break;
    }
    this.recordAccess?.(path);
    return node;
  }

  /** Nodes at and below `path` (0 if it does not exist): for leak ledgers. */
  countNodes(path: string): number {
    let node: XsNode | undefined = this.#root;
    for (const name of pathComponents(path)) {
      node = node.children.get(name);
      if (node === undefined) return 0;
    }
    const count = (n: XsNode): number => {
      let total = 1;
      for (const child of n.children.values()) total += count(child);
      return total;
    };
    return count(node);
  }

  /** Generation of the node at `path`, -1 if absent. */
  generationOf(path: string): number {
    let node: XsNode | undefined = this.#root;
    for (const name of pathComponents(path)) {
      node = node.children.get(name);
      if (node === undefined) return -1;
    }
    return node.generation;
  }

  read(caller: XsCaller, path: string): string {
    return this.#readable(caller, path).value;
  }

  directory(caller: XsCaller, path: string): string[] {
    return [...this.#readable(caller, path).children.keys()];
  }

  getPerms(caller: XsCaller, path: string): XsPermission[] {
    return this.#readable(caller, path).perms.map((p) => ({ ...p }));
  }

  /** Returns true if the node was created (false: an existing node was overwritten). */
  write(caller: XsCaller, path: string, value: string): boolean {
    const existing = this.lookup(path);
    if (existing !== undefined) {
      if (!allowsWrite(permissionFor(existing, caller))) throw new XsStoreError('EACCES');
      existing.value = value;
      existing.generation = ++this.#generation;
      return false;
    }
    this.#create(caller, path).value = value;
    return true;
  }

  /** Returns true if the node was created; an existing node is left alone (as xenstored does). */
  mkdir(caller: XsCaller, path: string): boolean {
    const existing = this.lookup(path);
    if (existing !== undefined) {
      if (!allowsWrite(permissionFor(existing, caller))) throw new XsStoreError('EACCES'); // as do_mkdir's get_node(WRITE)
      return false;
    }
    this.#create(caller, path);
    return true;
  }

  /**
   * Removes the node and everything below it. Returns the removed node (for watch permission
   * checks), or undefined when it did not exist but its parent does (xenstored answers OK).
   */
  rm(caller: XsCaller, path: string): XsNode | undefined {
    if (path === '/') throw new XsStoreError('EINVAL');
    const node = this.lookup(path);
    const parent = this.lookup(parentPath(path));
    if (node === undefined) {
      if (parent !== undefined) return undefined;
      throw new XsStoreError(this.#missingError(caller, path));
    }
    if (!allowsWrite(permissionFor(node, caller))) throw new XsStoreError('EACCES');
    // A change outside the transaction to anything it deletes is a conflict (C xenstored's
    // delete_node marks every removed node accessed), not an update the commit silently drops.
    if (this.recordAccess !== undefined) this.#recordSubtree(path, node, this.recordAccess);
    const name = pathComponents(path).at(-1) ?? '';
    parent?.children.delete(name);
    if (parent !== undefined) parent.generation = ++this.#generation;
    return node;
  }

  setPerms(caller: XsCaller, path: string, perms: readonly XsPermission[]): void {
    const node = this.lookup(path);
    if (node === undefined) throw new XsStoreError(this.#missingError(caller, path));
    const owner = node.perms[0];
    const isOwner = caller.privileged || owner === undefined || owner.domid === caller.domid;
    if (!allowsWrite(permissionFor(node, caller)) || !isOwner) throw new XsStoreError('EACCES');
    if (!caller.privileged && perms[0]?.domid !== owner?.domid) throw new XsStoreError('EPERM');
    node.perms = perms.map((p) => ({ ...p }));
    node.generation = ++this.#generation;
  }

  /** Creates a node with explicit permissions, as the toolstack does (no permission checks). */
  install(path: string, value: string, perms: readonly XsPermission[]): void {
    const node = this.lookup(path) ?? this.#create({ domid: 0, privileged: true }, path);
    node.value = value;
    node.perms = perms.map((p) => ({ ...p }));
    node.generation = ++this.#generation;
  }

  #recordSubtree(path: string, node: XsNode, record: XsAccessRecorder): void {
    record(path);
    for (const [name, child] of node.children) this.#recordSubtree(path === '/' ? `/${name}` : `${path}/${name}`, child, record);
  }

  #readable(caller: XsCaller, path: string): XsNode {
    const node = this.lookup(path);
    if (node === undefined) throw new XsStoreError(this.#missingError(caller, path));
    if (!allowsRead(permissionFor(node, caller))) throw new XsStoreError('EACCES');
    return node;
  }

  /**
   * The errno a READ/DIRECTORY/GET_PERMS/SET_PERMS of a MISSING node answers: ENOENT if the
   * caller may read the nearest existing ancestor, else EACCES. This is C xenstored of Xen 4.17
   * (tools/xenstore/xenstored_core.c:936-951 errno_from_parents, called from get_node at 976-977;
   * ask_parents at 902-928 walks up to the nearest existing node), the xenstored of the project's
   * real-Xen rig. An EXISTING node the caller may not read answers EACCES (get_node, 969-974).
   *
   * What a domU sees as a consequence, with the permissions the toolstack sets ("/" and so
   * "/local", "/local/domain" are "n0", xenstored_core.c:2324-2328; a domain's home is
   * "n0 r<domid>", libxl_create.c:787-799): reading another domain's /local/domain/<id> answers
   * EACCES both while that domain exists and after it is gone. Only ENOENT proves absence; EACCES
   * proves nothing (oxenstored answers ENOENT for any missing node, store.ml:187-194, so
   * "ENOENT = gone, EACCES = cannot tell" is right for both daemons).
   *
   * The loopback store must answer exactly this (it answers ENOENT for every missing node today):
   * it must install "/local" and "/local/domain" as [n0] and each home as [n0, r<domid>] (as
   * XenStoreServer's constructor and introduceDomain() do) and report missing nodes through this
   * method, so a domU of the loopback host gets EACCES for a peer's vanished home, as on real Xen.
   */
  missingNodeError(caller: XsCaller, path: string): 'ENOENT' | 'EACCES' {
    return this.#missingError(caller, path);
  }

  #missingError(caller: XsCaller, path: string): 'ENOENT' | 'EACCES' {
    let ancestorPath = parentPath(path);
    let ancestor = this.lookup(ancestorPath);
    while (ancestor === undefined) {
      ancestorPath = parentPath(ancestorPath);
      ancestor = this.lookup(ancestorPath);
    }
    return allowsRead(permissionFor(ancestor, caller)) ? 'ENOENT' : 'EACCES';
  }

  /** Creates `path` and any missing ancestors; needs write access on the nearest existing one. */
  #create(caller: XsCaller, path: string): XsNode {
    const names = pathComponents(path);
    let node = this.#root;
    let index = 0;
    for (; index < names.length; index++) {
      const child = node.children.get(names[index] ?? '');
      if (child === undefined) break;
      node = child;
    }
    // The ancestor's list of children changes: a transaction creating here depends on it.
    this.recordAccess?.(`/${names.slice(0, index).join('/')}`);
    if (!allowsWrite(permissionFor(node, caller))) throw new XsStoreError('EACCES');
    for (; index < names.length; index++) {
      const perms = node.perms.map((p) => ({ ...p }));
      if (!caller.privileged && perms[0] !== undefined) perms[0] = { domid: caller.domid, perm: perms[0].perm };
      const child: XsNode = { value: '', perms, children: new Map(), generation: ++this.#generation };
      node.children.set(names[index] ?? '', child);
      node.generation = this.#generation;
      node = child;
    }
    return node;
  }
}
