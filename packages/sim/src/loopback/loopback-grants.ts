/**
 * Grants of the loopback host, over real shared memory as on Xen: each share() is a memfd that
 * the granter maps; a mapper maps the pages its refs name (from any shares, in any order) with
 * one contiguous mmap of its own. So every holder has its own ArrayBuffer, detached when that
 * holder lets go (a stale view reads length 0, as with the real devices), and the memory lives
 * until the last mapping of it is gone.
 */
import { closeSync } from 'node:fs';
import {
  type DomainPresence,
  type DomId,
  type EventChannel,
  type ForeignMapping,
  type GrantedPages,
  type GrantRef,
  mapFile,
  mapFilePages,
  memfdCreate,
  type MemoryMapping,
  PAGE_SIZE,
  type UnmapNotify,
  XenError,
} from '@xenipc/core';
import { checkNotifyOffset } from '@xenipc/core/backend-kit';

/** One share() call: pages granted by `owner` to `peer`, backed by one memfd. */
export class GrantAllocation {
  /** The memfd; closed once the granter stops sharing (no new map can name these refs then). */
  #fd: number | undefined;

  constructor(
    readonly owner: DomId,
    readonly peer: DomId,
    readonly refs: readonly GrantRef[],
    readonly writable: boolean,
  ) {
    this.#fd = memfdCreate(`xenipc-loopback-${owner}-${refs[0] ?? 0}`, refs.length * PAGE_SIZE);
  }

  /** Still granted (the granter has not let go). */
  get shared(): boolean {
    return this.#fd !== undefined;
  }

  get fd(): number {
    if (this.#fd === undefined) throw new Error('grant allocation no longer shared');
    return this.#fd;
  }

  unshare(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Where a grant ref points: page `index` of `alloc`. */
export interface GrantedPage {
  alloc: GrantAllocation;
  index: number;
}

export function mapAllocation(alloc: GrantAllocation): MemoryMapping {
  return mapFile(alloc.fd, 0, alloc.refs.length * PAGE_SIZE, { writable: true });
}

export function mapGrantedPages(pages: readonly GrantedPage[], writable: boolean): MemoryMapping {
  return mapFilePages(pages.map(({ alloc, index }) => ({ fd: alloc.fd, offset: index * PAGE_SIZE })), { writable });
}

/** Runs an UnmapNotify: clear the byte, then send the event (Xen's order). */
function fireUnmapNotify(buffer: ArrayBuffer, notify: UnmapNotify | undefined): void {
  if (notify === undefined) return;
  if (notify.clearByte !== undefined && buffer.byteLength > notify.clearByte) new Uint8Array(buffer)[notify.clearByte] = 0;
  notify.sendEvent?.notify();
}

function checkNotify(notify: UnmapNotify, bytes: number, writable: boolean, ownPorts: (ch: EventChannel) => boolean, syscall: string): void {
  if (notify.clearByte !== undefined) {
    checkNotifyOffset(notify.clearByte, bytes, syscall);
    if (!writable) throw new XenError({ code: 'EINVAL', syscall, message: 'unmap-notify cannot clear a byte of a read-only region' });
  }
  if (notify.sendEvent !== undefined && !ownPorts(notify.sendEvent)) {
    throw new XenError({ code: 'EINVAL', syscall, message: 'the unmap-notify event channel was not bound through this backend' });
  }
}

/** Something a backend holds and must let go of when it closes or its process dies. */
export interface HeldResource {
  /** Normal release (close()). */
  close(): void;
  /** Process death: the kernel's cleanup (unmap-notify still fires). */
  kill(): void;
  /** Whole-domain death: nothing runs in the dead domain. */
  vanish(): void;
}

/**
 * What a granter's pages and a mapper's mapping have in common here: a mapping of their own, an
 * optional unmap notification, and the close / kill / vanish lifecycle.
 */
abstract class LoopbackRegion implements HeldResource {
  private notify: UnmapNotify | undefined;
  private closed = false;

  constructor(
    private readonly mapping: MemoryMapping,
    readonly refs: readonly GrantRef[],
    private readonly ownsPort: (ch: EventChannel) => boolean,
    private readonly onRelease: (res: HeldResource) => void,
  ) {}

  abstract readonly writable: boolean;
  /** The ioctl the real device would use, for error messages. */
  protected abstract readonly notifySyscall: string;

  get buffer(): ArrayBuffer {
    return this.mapping.buffer;
  }

  protected get isClosed(): boolean {
    return this.closed;
  }

  setUnmapNotify(notify: UnmapNotify): void {
    checkNotify(notify, this.mapping.byteLength, this.writable, this.ownsPort, this.notifySyscall);
    this.notify = notify;
  }

  close(): void {
    if (this.closed) return;
    fireUnmapNotify(this.mapping.buffer, this.notify);
    this.release();
  }
  kill(): void {
    this.close();
  }
  vanish(): void {
    if (!this.closed) this.release();
  }

  /** Let go: unmap (the buffer detaches first). */
  protected release(): void {
    this.closed = true;
    this.mapping.unmap();
    this.onRelease(this);
  }
}

export class LoopbackGrantedPages extends LoopbackRegion implements GrantedPages {
  protected readonly notifySyscall = 'IOCTL_GNTALLOC_SET_UNMAP_NOTIFY';

  constructor(private readonly alloc: GrantAllocation, ownsPort: (ch: EventChannel) => boolean, onRelease: (res: HeldResource) => void) {
    super(mapAllocation(alloc), alloc.refs, ownsPort, onRelease);
  }

  get peer(): DomId {
    return this.alloc.peer;
  }
  get writable(): boolean {
    return this.alloc.writable;
  }

  protected override release(): void {
    this.alloc.unshare();
    super.release();
  }
}

export class LoopbackForeignMapping extends LoopbackRegion implements ForeignMapping {
  protected readonly notifySyscall = 'IOCTL_GNTDEV_SET_UNMAP_NOTIFY';

  constructor(
    readonly peer: DomId,
    pages: readonly GrantedPage[],
    refs: readonly GrantRef[],
    readonly writable: boolean,
    ownsPort: (ch: EventChannel) => boolean,
    onRelease: (res: HeldResource) => void,
    private readonly ownerAlive: () => boolean,
  ) {
    super(mapGrantedPages(pages, writable), [...refs], ownsPort, onRelease);
  }

  /** As Xen: a grant copy from a destroyed (dying) domain fails while our mapping lasts. */
  probeOwner(): Promise<DomainPresence> {
    if (this.isClosed) return Promise.resolve('unknown');
    return Promise.resolve(this.ownerAlive() ? 'present' : 'absent');
  }
}
