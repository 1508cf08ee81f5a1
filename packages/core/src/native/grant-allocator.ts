/**
 * /dev/xen/gntalloc: grant pages of our own memory to another domain (the vchan server side).
 *
 * Kernel rules this follows (Linux drivers/xen/gntalloc.c): ALLOC_GREF returns an mmap offset `index` (the
 * mapping must be MAP_SHARED at that offset); DEALLOC only drops the fd's reference, pages live
 * until unmapped everywhere; SET_UNMAP_NOTIFY is per page and needs the grefs still allocated,
 * so share() keeps them allocated until close() (which unmaps, then deallocates) instead of
 * deallocating at once like libxengntshr; a region whose buffer is garbage-collected is
 * deallocated afterwards. The global module limit (1024 pages by default) gives ENOSPC.
 */
import { checkDomid, checkPageCount, checkU32 } from '../backend/validate-args.js';
import { PAGE_SIZE, type DomId, type GrantRef } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';
import { ioctlContext } from './device-errors.js';
import { checkFileOffset, checkMmapIndex } from './device-offsets.js';
import { MappedGrantRegion } from './mapped-grant-region.js';
import { MemoryMapping } from './memory-mapping.js';
import { callNative } from './native-error.js';
import { GNTALLOC_FLAG_WRITABLE } from './uapi-constants.js';
import { unmapNotifyAction, type UnmapNotifyRequest } from './unmap-notify-args.js';
import { XenDevice, type OpenDeviceOptions } from './xen-device.js';

/** The most pages one ALLOC_GREF may ask for here (gntalloc's default global limit). */
export const GNTALLOC_MAX_PAGES_PER_CALL = 1024;

export interface ShareOptions {
  /** May the peer write the pages? (Our own mapping is always writable.) */
  writable: boolean;
}

/** Our pages, granted to one domain and mapped here. */
export class SharedGrantPages extends MappedGrantRegion {
  #notifiedPage: number | undefined;

  /** @internal Use GrantAllocator.share(). */
  constructor(
    private readonly allocator: GrantAllocator,
    readonly domid: DomId,
    refs: readonly GrantRef[],
    writable: boolean,
    index: number,
    mapping: MemoryMapping,
  ) {
    super(refs, writable, index, mapping);
  }

  /**
   * IOCTL_GNTALLOC_SET_UNMAP_NOTIFY: when we let go of the page holding `clearByte` (or the
   * first page, for an event only), clear that byte and/or notify `port`. The kernel keeps one
   * notification per page; this keeps one per region: a notification on another page than the
   * previous one removes the previous one (after the new one is in place). `{}` removes it.
   */
  setUnmapNotify(request: UnmapNotifyRequest): void {
    const syscall = 'IOCTL_GNTALLOC_SET_UNMAP_NOTIFY';
    this.requireOpen(syscall, 'the shared pages were');
    const { action, offset, port } = unmapNotifyAction(request, this.refs.length * PAGE_SIZE, true, syscall);
    const page = Math.floor(offset / PAGE_SIZE);
    this.allocator.setUnmapNotify(this.index + offset, action, port);
    const previous = this.#notifiedPage;
    this.#notifiedPage = action === 0 ? undefined : page;
    if (previous !== undefined && previous !== page) this.allocator.setUnmapNotify(this.index + previous * PAGE_SIZE, 0, 0);
  }

  protected release(): void {
    this.allocator.releaseShared(this);
  }
}

export class GrantAllocator extends XenDevice {
  readonly #leaked = new FinalizationRegistry<{ index: number; count: number }>(({ index, count }) => {
    if (this.closed) return;
    try {
      this.addon.gntallocDeallocGref(this.fd, index, count);
    } catch {
      // The kernel frees the grefs at close anyway.
    }
  });

  private constructor(options: OpenDeviceOptions) {
    super('gntalloc', options);
  }

  /** Opens /dev/xen/gntalloc (or options.path). Throws XenError ENOENT on a machine without Xen. */
  static open(options: OpenDeviceOptions = {}): GrantAllocator {
    return new GrantAllocator(options);
  }

  #call<T>(syscall: string, what: string, call: () => T): T {
    return callNative(ioctlContext('gntalloc', this.path, syscall, what), call);
  }

  /** IOCTL_GNTALLOC_ALLOC_GREF: `count` zeroed pages granted to `domid`; returns the mmap offset and refs. */
  allocGrefs(domid: DomId, count: number, options: ShareOptions): { index: number; refs: GrantRef[] } {
    const syscall = 'IOCTL_GNTALLOC_ALLOC_GREF';
    checkDomid(domid, syscall);
    checkPageCount(count, syscall, GNTALLOC_MAX_PAGES_PER_CALL);
    if (typeof options?.writable !== 'boolean') throw new XenError({ code: 'EINVAL', syscall, message: 'options.writable must be true or false' });
    const fd = this.fd;
    const flags = options.writable ? GNTALLOC_FLAG_WRITABLE : 0;
    const { index, refs } = this.#call(syscall, `grant ${count} page(s) to domain ${domid}`, () => this.addon.gntallocAllocGref(fd, domid, flags, count));
    return { index, refs: Array.from(refs) };
  }

  /** IOCTL_GNTALLOC_DEALLOC_GREF: drops this fd's reference to `count` grefs from `index`. */
  deallocGrefs(index: number, count: number): void {
    const syscall = 'IOCTL_GNTALLOC_DEALLOC_GREF';
    checkMmapIndex(index, syscall);
    checkPageCount(count, syscall, GNTALLOC_MAX_PAGES_PER_CALL);
    const fd = this.fd;
    this.#call(syscall, `release ${count} grant(s) at index ${index}`, () => this.addon.gntallocDeallocGref(fd, index, count));
  }

  /** IOCTL_GNTALLOC_SET_UNMAP_NOTIFY on a raw file offset (page index + byte). Prefer SharedGrantPages.setUnmapNotify. */
  setUnmapNotify(fileOffset: number, action: number, port: number): void {
    const syscall = 'IOCTL_GNTALLOC_SET_UNMAP_NOTIFY';
    checkFileOffset(fileOffset, syscall);
    checkU32(action, 'action', syscall);
    checkU32(port, 'port', syscall);
    const fd = this.fd;
    this.#call(syscall, `set the unmap notification at offset ${fileOffset}`, () => this.addon.gntallocSetUnmapNotify(fd, fileOffset, action, port));
  }

  /** ALLOC_GREF + mmap: fresh zeroed pages granted to `domid`, mapped here (always writable locally). */
  share(domid: DomId, count: number, options: ShareOptions): SharedGrantPages {
    const { index, refs } = this.allocGrefs(domid, count, options);
    let mapping: MemoryMapping;
    try {
      const { MappingHandle } = this.addon;
      const fd = this.fd;
      mapping = callNative({ what: `map ${count} shared page(s)`, syscall: 'mmap', path: this.path },
        () => new MemoryMapping(new MappingHandle(fd, index, count * PAGE_SIZE, true)));
    } catch (err) {
      this.deallocGrefs(index, count);
      throw err;
    }
    const shared = new SharedGrantPages(this, domid, refs, options.writable, index, mapping);
    this.#leaked.register(mapping.buffer, { index, count }, shared);
    return shared;
  }

  /** @internal SharedGrantPages.close(). */
  releaseShared(shared: SharedGrantPages): void {
    this.#leaked.unregister(shared);
    if (!this.closed) this.deallocGrefs(shared.index, shared.refs.length);
  }
}
