/**
 * Grant pages mapped into this process through one of the grant devices: our own pages shared
 * through gntalloc (SharedGrantPages) or another domain's mapped through gntdev (GrantMapping).
 * Both hold the mapping, report `closed`, and close the same way: munmap first (which detaches
 * the buffer, so no JS code can touch the pages afterwards), then the device-specific release.
 */
import type { GrantRef } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';
import type { MemoryMapping } from './memory-mapping.js';

export abstract class MappedGrantRegion {
  readonly mapping: MemoryMapping;
  #closed = false;

  protected constructor(
    readonly refs: readonly GrantRef[],
    readonly writable: boolean,
    /** The mmap offset the device returned for these pages. */
    readonly index: number,
    mapping: MemoryMapping,
  ) {
    this.mapping = mapping;
  }

  /** refs.length * 4096 bytes; detached (byteLength 0) after close(). */
  get buffer(): ArrayBuffer {
    return this.mapping.buffer;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** munmap (detaching the buffer), then release the device's side; fires the unmap notification. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.mapping.unmap();
    this.release();
  }

  /** DEALLOC_GREF or UNMAP_GRANT_REF, after the munmap. */
  protected abstract release(): void;

  protected requireOpen(syscall: string, what: string): void {
    if (this.#closed) throw new XenError({ code: 'EBADF', syscall, message: `${what} already closed` });
  }
}
