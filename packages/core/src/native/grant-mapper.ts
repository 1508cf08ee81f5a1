/**
 * /dev/xen/gntdev: map grants of other domains into this process (the vchan client side), copy
 * to and from grants, and the dma-buf ioctls. Every argument is checked before the syscall.
 *
 * Kernel rules this follows (Linux drivers/xen/gntdev.c): MAP_GRANT_REF only registers the grants and
 * returns an mmap offset `index`; the mmap must use exactly that offset and exactly count pages;
 * a map stays valid until both its VMA and its registration are gone, so close() unmaps then
 * unregisters, and a mapping whose buffer is garbage-collected is unregistered afterwards.
 */
import { checkDomid, checkGrantRefs, checkPageCount, checkU32 } from '../backend/validate-args.js';
import { PAGE_SIZE, type DomainPresence, type DomId, type GrantRef } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';
import { ioctlContext } from './device-errors.js';
import { checkFileOffset, checkMmapIndex } from './device-offsets.js';
import { MappedGrantRegion } from './mapped-grant-region.js';
import { toNativeSegments, type GrantCopySegment } from './grant-copy.js';
import { MemoryMapping } from './memory-mapping.js';
import { callNative, toXenError } from './native-error.js';
import { GNTDEV_DMA_FLAG_COHERENT, GNTDEV_DMA_FLAG_WC, GNTST_BAD_DOMAIN, GNTST_OKAY } from './uapi-constants.js';

/** Where GrantMapping.probeOwner() copies its one byte to. */
const probeByte = new Uint8Array(1);
import { unmapNotifyAction, type UnmapNotifyRequest } from './unmap-notify-args.js';
import { XenDevice, type OpenDeviceOptions } from './xen-device.js';

/** gntdev's default per-call limit (module parameter `limit`). */
export const GNTDEV_MAX_PAGES_PER_CALL = 65_536;
/** libxengnttab retries an mmap that fails with EAGAIN (granter page paged out) every 1 ms. */
const MMAP_EAGAIN_RETRIES = 100;

export interface GrantMapOptions {
  writable: boolean;
}

export type DmabufFlag = 'wc' | 'coherent';

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Grants of another domain mapped contiguously into this process. */
export class GrantMapping extends MappedGrantRegion {
  /** @internal Use GrantMapper.map(). */
  constructor(
    private readonly mapper: GrantMapper,
    readonly domids: readonly DomId[],
    refs: readonly GrantRef[],
    writable: boolean,
    index: number,
    mapping: MemoryMapping,
  ) {
    super(refs, writable, index, mapping);
  }

  /**
   * IOCTL_GNTDEV_SET_UNMAP_NOTIFY: when this map goes (close, exit, kill), clear a byte and/or
   * notify a port. One notification per map; calling again replaces it; `{}` removes it.
   */
  setUnmapNotify(request: UnmapNotifyRequest): void {
    const syscall = 'IOCTL_GNTDEV_SET_UNMAP_NOTIFY';
    this.requireOpen(syscall, 'the grant mapping was');
    const { action, offset, port } = unmapNotifyAction(request, this.refs.length * PAGE_SIZE, this.writable, syscall);
    this.mapper.setUnmapNotify(this.index + offset, action, port);
  }

  /**
   * A 1-byte IOCTL_GNTDEV_GRANT_COPY from our first page's grant: 'absent' when Xen answers
   * GNTST_bad_domain (its owner is gone or dying), 'present' when the copy succeeds.
   */
  probeOwner(): DomainPresence {
    if (this.closed) return 'unknown';
    const [status] = this.mapper.grantCopy([{ source: { ref: this.refs[0] as GrantRef, domid: this.domids[0] as DomId, offset: 0 }, dest: { buffer: probeByte }, length: 1 }]);
    if (status === GNTST_OKAY) return 'present';
    return status === GNTST_BAD_DOMAIN ? 'absent' : 'unknown';
  }

  protected release(): void {
    this.mapper.releaseMapping(this);
  }
}

export class GrantMapper extends XenDevice {
  // Registrations whose buffer was collected without close(): unregister them afterwards.
  readonly #leaked = new FinalizationRegistry<{ index: number; count: number }>(({ index, count }) => {
    if (this.closed) return;
    try {
      this.addon.gntdevUnmapGrantRef(this.fd, index, count);
    } catch {
      // Nothing to report to: the kernel frees the registration at close anyway.
    }
  });
  #pendingWaits = 0;
  #closeRequested = false;

  private constructor(options: OpenDeviceOptions) {
    super('gntdev', options);
  }

  /** Opens /dev/xen/gntdev (or options.path). Throws XenError ENOENT on a machine without Xen. */
  static open(options: OpenDeviceOptions = {}): GrantMapper {
    return new GrantMapper(options);
  }

  #call<T>(syscall: string, what: string, call: () => T): T {
    return callNative(ioctlContext('gntdev', this.path, syscall, what), call);
  }

  /** IOCTL_GNTDEV_MAP_GRANT_REF: registers grants (one domid for all, or one per ref); returns the mmap offset. */
  mapGrantRefs(domid: DomId | readonly DomId[], refs: readonly GrantRef[]): number {
    const syscall = 'IOCTL_GNTDEV_MAP_GRANT_REF';
    checkGrantRefs(refs, syscall, GNTDEV_MAX_PAGES_PER_CALL);
    const domids = typeof domid === 'number' ? refs.map(() => domid) : [...domid];
    if (domids.length !== refs.length) {
      throw new XenError({ code: 'EINVAL', syscall, message: `${domids.length} domids given for ${refs.length} grant refs` });
    }
    for (const d of domids) checkDomid(d, syscall);
    const fd = this.fd;
    return this.#call(syscall, `register ${refs.length} grant(s) of domain ${domids[0]}`,
      () => this.addon.gntdevMapGrantRef(fd, Uint32Array.from(domids), Uint32Array.from(refs)));
  }

  /** IOCTL_GNTDEV_UNMAP_GRANT_REF: drops a registration (exact index and count). */
  unmapGrantRefs(index: number, count: number): void {
    const syscall = 'IOCTL_GNTDEV_UNMAP_GRANT_REF';
    checkMmapIndex(index, syscall);
    checkPageCount(count, syscall, GNTDEV_MAX_PAGES_PER_CALL);
    const fd = this.fd;
    this.#call(syscall, `unregister ${count} grant(s) at index ${index}`, () => this.addon.gntdevUnmapGrantRef(fd, index, count));
  }

  /** MAP_GRANT_REF + mmap: the grants, contiguous, in the order given. */
  map(domid: DomId | readonly DomId[], refs: readonly GrantRef[], options: GrantMapOptions): GrantMapping {
    if (typeof options?.writable !== 'boolean') {
      throw new XenError({ code: 'EINVAL', syscall: 'mmap', message: 'options.writable must be true or false' });
    }
    const index = this.mapGrantRefs(domid, refs);
    const domids = typeof domid === 'number' ? refs.map(() => domid) : [...domid];
    let mapping: MemoryMapping;
    try {
      mapping = this.#mmap(index, refs.length, options.writable, domids[0] ?? 0);
    } catch (err) {
      this.unmapGrantRefs(index, refs.length);
      throw err;
    }
    const grantMapping = new GrantMapping(this, domids, [...refs], options.writable, index, mapping);
    this.#leaked.register(mapping.buffer, { index, count: refs.length }, grantMapping);
    return grantMapping;
  }

  #mmap(index: number, count: number, writable: boolean, domid: DomId): MemoryMapping {
    const { MappingHandle } = this.addon;
    const fd = this.fd;
    for (let attempt = 0; ; attempt++) {
      try {
        return new MemoryMapping(new MappingHandle(fd, index, count * PAGE_SIZE, writable));
      } catch (err) {
        const xenError = toXenError(err, { what: `map ${count} grant page(s) of domain ${domid}`, syscall: 'mmap', path: this.path });
        if (XenError.is(xenError, 'EAGAIN') && attempt < MMAP_EAGAIN_RETRIES) {
          sleepSync(1);
          continue;
        }
        throw xenError;
      }
    }
  }

  /** @internal GrantMapping.close(). */
  releaseMapping(mapping: GrantMapping): void {
    this.#leaked.unregister(mapping);
    if (!this.closed) this.unmapGrantRefs(mapping.index, mapping.refs.length);
  }

  /** IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR: the mmap offset and page count of the gntdev VMA at `address`. */
  getOffsetForVaddr(address: number): { offset: number; count: number } {
    const syscall = 'IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR';
    if (!Number.isSafeInteger(address) || address <= 0) {
      throw new XenError({ code: 'EINVAL', syscall, message: `address ${String(address)} is not a virtual address` });
    }
    const fd = this.fd;
    return this.#call(syscall, `look up the grant mapping at 0x${address.toString(16)}`, () => this.addon.gntdevGetOffsetForVaddr(fd, address));
  }

  /**
   * IOCTL_GNTDEV_SET_MAX_GRANTS: a legacy per-fd limit. Returns false when the kernel does not
   * implement it (ENOTTY on current kernels; libxengnttab ignores that too).
   */
  setMaxGrants(count: number): boolean {
    const syscall = 'IOCTL_GNTDEV_SET_MAX_GRANTS';
    checkPageCount(count, syscall, 0xffff_ffff);
    const fd = this.fd;
    try {
      this.#call(syscall, `limit this fd to ${count} grants`, () => this.addon.gntdevSetMaxGrants(fd, count));
      return true;
    } catch (err) {
      if (XenError.is(err, 'ENOTTY')) return false;
      throw err;
    }
  }

  /** IOCTL_GNTDEV_SET_UNMAP_NOTIFY on a raw file offset (registration index + byte). Prefer GrantMapping.setUnmapNotify. */
  setUnmapNotify(fileOffset: number, action: number, port: number): void {
    const syscall = 'IOCTL_GNTDEV_SET_UNMAP_NOTIFY';
    checkFileOffset(fileOffset, syscall);
    checkU32(action, 'action', syscall);
    checkU32(port, 'port', syscall);
    const fd = this.fd;
    this.#call(syscall, `set the unmap notification at offset ${fileOffset}`, () => this.addon.gntdevSetUnmapNotify(fd, fileOffset, action, port));
  }

  /**
   * IOCTL_GNTDEV_GRANT_COPY: copies between grants and local buffers. Returns one GNTST_* status
   * per segment (0 = okay; see GRANT_STATUS_NAMES); the call itself fails only on bad arguments.
   */
  grantCopy(segments: readonly GrantCopySegment[]): Int16Array {
    const native = toNativeSegments(segments);
    const fd = this.fd;
    return this.#call('IOCTL_GNTDEV_GRANT_COPY', `copy ${segments.length} grant segment(s)`, () => this.addon.gntdevGrantCopy(fd, native));
  }

  /** IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS: exports grants of `domid` as a dma-buf; returns its fd (close it with fs.closeSync). */
  dmabufExportFromRefs(domid: DomId, refs: readonly GrantRef[], flags: readonly DmabufFlag[] = []): number {
    const syscall = 'IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS';
    checkDomid(domid, syscall);
    checkGrantRefs(refs, syscall, GNTDEV_MAX_PAGES_PER_CALL);
    let bits = 0;
    for (const flag of flags) {
      if (flag === 'wc') bits |= GNTDEV_DMA_FLAG_WC;
      else if (flag === 'coherent') bits |= GNTDEV_DMA_FLAG_COHERENT;
      else throw new XenError({ code: 'EINVAL', syscall, message: `unknown dma-buf flag ${String(flag)} (use 'wc' or 'coherent')` });
    }
    const fd = this.fd;
    return this.#call(syscall, `export ${refs.length} grant(s) of domain ${domid} as a dma-buf`,
      () => this.addon.gntdevDmabufExportFromRefs(fd, bits, domid, Uint32Array.from(refs)));
  }

  /**
   * IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED: resolves once the exported dma-buf is released
   * (ETIMEDOUT after timeoutMs; ENOENT when it is already gone). Runs off the event loop.
   */
  async dmabufExportWaitReleased(dmabufFd: number, timeoutMs: number): Promise<void> {
    const syscall = 'IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED';
    checkU32(dmabufFd, 'dma-buf fd', syscall);
    checkU32(timeoutMs, 'timeout (ms)', syscall);
    const fd = this.fd;
    const context = ioctlContext('gntdev', this.path, syscall, `wait for dma-buf ${dmabufFd} to be released`);
    this.#pendingWaits++;
    try {
      await this.addon.gntdevDmabufExportWaitReleased(fd, dmabufFd, timeoutMs);
    } catch (err) {
      throw toXenError(err, context);
    } finally {
      this.#pendingWaits--;
      if (this.#pendingWaits === 0 && this.#closeRequested) super.close();
    }
  }

  /** IOCTL_GNTDEV_DMABUF_IMP_TO_REFS: grants the `count` pages of a dma-buf to `domid`; returns the refs. */
  dmabufImportToRefs(dmabufFd: number, domid: DomId, count: number): GrantRef[] {
    const syscall = 'IOCTL_GNTDEV_DMABUF_IMP_TO_REFS';
    checkU32(dmabufFd, 'dma-buf fd', syscall);
    checkDomid(domid, syscall);
    checkPageCount(count, syscall, GNTDEV_MAX_PAGES_PER_CALL);
    const fd = this.fd;
    return Array.from(this.#call(syscall, `grant ${count} page(s) of dma-buf ${dmabufFd} to domain ${domid}`,
      () => this.addon.gntdevDmabufImportToRefs(fd, dmabufFd, count, domid)));
  }

  /** IOCTL_GNTDEV_DMABUF_IMP_RELEASE: ends the grants of an imported dma-buf. */
  dmabufImportRelease(dmabufFd: number): void {
    const syscall = 'IOCTL_GNTDEV_DMABUF_IMP_RELEASE';
    checkU32(dmabufFd, 'dma-buf fd', syscall);
    const fd = this.fd;
    this.#call(syscall, `release imported dma-buf ${dmabufFd}`, () => this.addon.gntdevDmabufImportRelease(fd, dmabufFd));
  }

  /**
   * Closes the device (the kernel drops all registrations; live mappings stay valid until
   * unmapped). With a dma-buf wait in flight the fd is closed when the wait ends.
   */
  override close(): void {
    if (this.#pendingWaits > 0) {
      this.#closeRequested = true;
      return;
    }
    super.close();
  }
}
