/**
 * The host's grant table. Each share() is one memfd holding its pages; granting domain and
 * mapping domain both mmap that file, so ring traffic goes through real shared memory.
 *
 * Rules copied from Xen + Linux (drivers/xen/gntalloc.c, gntdev.c; Xen's common/grant_table.c):
 * - a grant can be mapped only by the domain it names, and only read-only if granted read-only;
 *   a bad ref, a ref granted to someone else, a dead granting domain, or a writable map of a
 *   read-only grant all fail like gntdev's mmap does: the hypercall status is not GNTST_okay,
 *   map_grant_pages() turns that into EINVAL;
 * - at most `grantLimit` pages shared per domain (gntalloc's default 1024) -> ENOSPC; pages the
 *   sharer let go of keep counting while a peer still maps them (Xen cannot revoke a grant in use);
 * - a ref stops being mappable as soon as its sharer lets go.
 */
import { closeSync } from 'node:fs';
import { type DomId, type EvtchnPort, type GrantRef, PAGE_SIZE, XenError } from '@xenipc/core';

/** What to do when the holder of a share or mapping lets go (Xen's UNMAP_NOTIFY_*). */
export interface UnmapNotifyRegistration {
  clearByte?: number;
  port?: EvtchnPort;
}

export interface HostShare {
  readonly id: number;
  readonly owner: DomId;
  readonly peer: DomId;
  readonly refs: GrantRef[];
  readonly writable: boolean;
  readonly fd: number;
  ownerHolds: boolean;
  mappers: number;
  notify: UnmapNotifyRegistration | undefined;
}

export interface HostMapping {
  readonly id: number;
  readonly mapper: DomId;
  readonly owner: DomId;
  readonly writable: boolean;
  /** Page i of the mapping is page `index` of `share`'s file. */
  readonly pages: ReadonlyArray<{ share: HostShare; index: number }>;
  notify: UnmapNotifyRegistration | undefined;
}

/** First ref handed out: Xen reserves refs 0..7 (GNTTAB_NR_RESERVED_ENTRIES). */
const FIRST_GRANT_REF = 8;
export const DEFAULT_GRANT_LIMIT = 1024;

function mapFailure(message: string): XenError {
  return new XenError({ code: 'EINVAL', syscall: 'mmap', message });
}

export class HostGrantTable {
  readonly #shares = new Map<number, HostShare>();
  readonly #mappings = new Map<number, HostMapping>();
  /** Mappable refs per granting domain. */
  readonly #refs = new Map<DomId, Map<GrantRef, { share: HostShare; index: number }>>();
  readonly #nextRef = new Map<DomId, GrantRef>();
  readonly #createFile: (bytes: number) => number;
  readonly #grantLimit: number;
  #nextId = 1;

  constructor(createFile: (bytes: number) => number, grantLimit = DEFAULT_GRANT_LIMIT) {
    this.#createFile = createFile;
    this.#grantLimit = grantLimit;
  }

  share(owner: DomId, peer: DomId, pageCount: number, writable: boolean): HostShare {
    if (this.grantsOf(owner) + pageCount > this.#grantLimit) {
      throw new XenError({
        code: 'ENOSPC',
        syscall: 'IOCTL_GNTALLOC_ALLOC_GREF',
        message: `cannot share ${pageCount} more pages: domain ${owner} would exceed the limit of ${this.#grantLimit} granted pages (gntalloc's limit)`,
      });
    }
    const fd = this.#createFile(pageCount * PAGE_SIZE);
    const table = this.#refs.get(owner) ?? new Map<GrantRef, { share: HostShare; index: number }>();
    this.#refs.set(owner, table);
    let next = this.#nextRef.get(owner) ?? FIRST_GRANT_REF;
    const refs: GrantRef[] = [];
    const share: HostShare = { id: this.#nextId++, owner, peer, refs, writable, fd, ownerHolds: true, mappers: 0, notify: undefined };
    for (let index = 0; index < pageCount; index++) {
      while (table.has(next)) next = next >= 0xffff_fffe ? FIRST_GRANT_REF : next + 1;
      refs.push(next);
      table.set(next, { share, index });
      next = next >= 0xffff_fffe ? FIRST_GRANT_REF : next + 1;
    }
    this.#nextRef.set(owner, next);
    this.#shares.set(share.id, share);
    return share;
  }

  ownedShare(owner: DomId, shareId: number): HostShare | undefined {
    const share = this.#shares.get(shareId);
    return share !== undefined && share.owner === owner && share.ownerHolds ? share : undefined;
  }

  /** The sharer lets go: its refs stop being mappable; the file lives while a peer maps it. */
  unshare(share: HostShare): void {
    if (!share.ownerHolds) return;
    share.ownerHolds = false;
    share.notify = undefined;
    const table = this.#refs.get(share.owner);
    for (const ref of share.refs) table?.delete(ref);
    this.#collect(share);
  }

  map(mapper: DomId, owner: DomId, refs: readonly GrantRef[], writable: boolean, ownerAlive: boolean): HostMapping {
    if (!ownerAlive) throw mapFailure(`cannot map grants of domain ${owner}: no such domain (GNTST_bad_domain)`);
    const table = this.#refs.get(owner);
    const pages = refs.map((ref) => {
      const entry = table?.get(ref);
      if (entry === undefined) throw mapFailure(`cannot map grant ref ${ref} of domain ${owner}: no such grant (GNTST_bad_gntref)`);
      if (entry.share.peer !== mapper) {
        throw mapFailure(`cannot map grant ref ${ref} of domain ${owner}: it is granted to domain ${entry.share.peer}, not ${mapper} (GNTST_general_error)`);
      }
      if (writable && !entry.share.writable) {
        throw mapFailure(`cannot map grant ref ${ref} of domain ${owner} writable: it was granted read-only (GNTST_general_error)`);
      }
      return entry;
    });
    for (const { share } of pages) share.mappers++;
    const mapping: HostMapping = { id: this.#nextId++, mapper, owner, writable, pages, notify: undefined };
    this.#mappings.set(mapping.id, mapping);
    return mapping;
  }

  mappingOf(mapper: DomId, mapId: number): HostMapping | undefined {
    const mapping = this.#mappings.get(mapId);
    return mapping?.mapper === mapper ? mapping : undefined;
  }

  unmap(mapping: HostMapping): void {
    if (!this.#mappings.delete(mapping.id)) return;
    mapping.notify = undefined;
    for (const { share } of mapping.pages) {
      share.mappers--;
      this.#collect(share);
    }
  }

  sharesOwnedBy(domid: DomId): HostShare[] {
    return [...this.#shares.values()].filter((share) => share.owner === domid && share.ownerHolds);
  }

  mappingsBy(domid: DomId): HostMapping[] {
    return [...this.#mappings.values()].filter((mapping) => mapping.mapper === domid);
  }

  /** Pages counted against `domid`'s limit. */
  grantsOf(domid: DomId): number {
    let count = 0;
    for (const share of this.#shares.values()) if (share.owner === domid) count += share.refs.length;
    return count;
  }

  /** Domains this table keeps per-domain state for (a ref table, a ref cursor). */
  domainsWithState(): Set<DomId> {
    return new Set([...this.#refs.keys(), ...this.#nextRef.keys()]);
  }

  /** The domain is gone and shares nothing any more: drop its ref table and cursor (a new domain starts afresh, as on Xen). */
  forgetDomain(domid: DomId): void {
    if ((this.#refs.get(domid)?.size ?? 0) > 0) return;
    this.#refs.delete(domid);
    this.#nextRef.delete(domid);
  }

  get fileCount(): number {
    return this.#shares.size;
  }

  close(): void {
    for (const share of this.#shares.values()) closeSync(share.fd);
    this.#shares.clear();
    this.#mappings.clear();
    this.#refs.clear();
  }

  #collect(share: HostShare): void {
    if (share.ownerHolds || share.mappers > 0 || !this.#shares.delete(share.id)) return;
    closeSync(share.fd);
  }
}
