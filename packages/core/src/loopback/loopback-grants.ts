/**
 * Grants of the loopback host. All domains live in one JS realm, so "sharing a page" means
 * handing the very same ArrayBuffer to the mapper: the granter's GrantedPages.buffer and every
 * ForeignMapping.buffer of it are one object. Two consequences, both documented limitations:
 * - a mapping must cover exactly one share() allocation, refs in order (what vchan does);
 * - the buffer is detached only when its last holder lets go (granter and all mappers), so a
 *   use-after-close by one side is not caught by a zero-length buffer here (the ledger catches
 *   leaks instead).
 */
import type { DomId, EventChannel, ForeignMapping, GrantedPages, GrantRef, UnmapNotify } from '../backend/xen-backend.js';
import { checkNotifyOffset } from '../backend/validate-args.js';
import { XenError } from '../xen-error.js';

/** One share() call: pages granted by `owner` to `peer`. */
export interface GrantAllocation {
  readonly owner: DomId;
  readonly peer: DomId;
  readonly refs: readonly GrantRef[];
  readonly writable: boolean;
  readonly buffer: ArrayBuffer;
  /** Live holders: the share itself (until closed) plus each open mapping. */
  holders: number;
  shared: boolean;
}

function detach(buffer: ArrayBuffer): void {
  // Node 20 has no ArrayBuffer.prototype.transfer; transferring through structuredClone detaches.
  structuredClone(buffer, { transfer: [buffer] });
}

export function releaseHolder(alloc: GrantAllocation): void {
  alloc.holders -= 1;
  if (alloc.holders === 0) detach(alloc.buffer);
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
 * What a granter's pages and a mapper's mapping have in common here: one allocation's buffer, an
 * optional unmap notification, and the close / kill / vanish lifecycle.
 */
abstract class LoopbackRegion implements HeldResource {
  private notify: UnmapNotify | undefined;
  private closed = false;

  constructor(
    protected readonly alloc: GrantAllocation,
    private readonly ownsPort: (ch: EventChannel) => boolean,
    private readonly onRelease: (res: HeldResource) => void,
  ) {}

  abstract readonly writable: boolean;
  /** The ioctl the real device would use, for error messages. */
  protected abstract readonly notifySyscall: string;

  get refs(): readonly GrantRef[] {
    return this.alloc.refs;
  }
  get buffer(): ArrayBuffer {
    return this.alloc.buffer;
  }

  setUnmapNotify(notify: UnmapNotify): void {
    checkNotify(notify, this.alloc.buffer.byteLength, this.writable, this.ownsPort, this.notifySyscall);
    this.notify = notify;
  }

  close(): void {
    if (this.closed) return;
    fireUnmapNotify(this.alloc.buffer, this.notify);
    this.release();
  }
  kill(): void {
    this.close();
  }
  vanish(): void {
    if (!this.closed) this.release();
  }

  /** Stop holding the allocation (the last holder detaches its buffer). */
  protected release(): void {
    this.closed = true;
    this.onRelease(this);
    releaseHolder(this.alloc);
  }
}

export class LoopbackGrantedPages extends LoopbackRegion implements GrantedPages {
  protected readonly notifySyscall = 'IOCTL_GNTALLOC_SET_UNMAP_NOTIFY';

  get peer(): DomId {
    return this.alloc.peer;
  }
  get writable(): boolean {
    return this.alloc.writable;
  }

  protected override release(): void {
    this.alloc.shared = false;
    super.release();
  }
}

export class LoopbackForeignMapping extends LoopbackRegion implements ForeignMapping {
  protected readonly notifySyscall = 'IOCTL_GNTDEV_SET_UNMAP_NOTIFY';

  constructor(
    alloc: GrantAllocation,
    readonly writable: boolean,
    ownsPort: (ch: EventChannel) => boolean,
    onRelease: (res: HeldResource) => void,
  ) {
    super(alloc, ownsPort, onRelease);
    alloc.holders += 1;
  }

  get peer(): DomId {
    return this.alloc.owner;
  }
}
