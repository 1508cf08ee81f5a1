/**
 * Memory mapped from a file descriptor, exposed as an ArrayBuffer over the mapping itself (no
 * copy). Works without Xen (any mmap-able fd: memfd, /dev/shm files); the grant devices use the
 * same class for their mappings.
 *
 * Unmapping -- explicit unmap(), or the buffer being garbage-collected -- is done once, in C++,
 * and an explicit unmap first detaches the buffer: every view then reads length 0, so there is
 * never an access to unmapped memory.
 */
import { PAGE_SIZE } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';
import { loadAddon } from './load-addon.js';
import type { NativeMappingHandle } from './native-addon.js';
import { callNative } from './native-error.js';

/** One 4 KiB page of a file: `offset` is a multiple of 4096. */
export interface FilePage {
  fd: number;
  offset: number;
}

export interface MapOptions {
  writable: boolean;
}

export class MemoryMapping {
  readonly buffer: ArrayBuffer;
  /** The mapped length; stays the same after unmap (buffer.byteLength becomes 0). */
  readonly byteLength: number;
  readonly #handle: NativeMappingHandle;

  /** @internal Use mapFile/mapFilePages or a grant device. */
  constructor(handle: NativeMappingHandle) {
    this.#handle = handle;
    this.buffer = handle.buffer;
    this.byteLength = handle.buffer.byteLength;
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Virtual address of the first byte in this process (what IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR takes). */
  get address(): number {
    return this.#handle.address;
  }

  /** Detach the buffer, then munmap. Idempotent. */
  unmap(): void {
    this.#handle.unmap();
  }
}

function invalid(syscall: string, message: string): XenError {
  return new XenError({ code: 'EINVAL', syscall, message });
}

export function checkFd(fd: number, syscall: string): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fff_ffff) throw invalid(syscall, `fd ${String(fd)} is not a file descriptor`);
}

export function checkPageOffset(offset: number, syscall: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % PAGE_SIZE !== 0) {
    throw invalid(syscall, `offset ${String(offset)} must be a non-negative multiple of ${PAGE_SIZE}`);
  }
}

function checkMapOptions(options: MapOptions, syscall: string): void {
  if (typeof options?.writable !== 'boolean') throw invalid(syscall, 'options.writable must be true or false');
}

/** Largest single mapping accepted (1 GiB): far above any ring, catches unit mistakes. */
export const MAX_MAPPING_BYTES = 1 << 30;

/** mmap `length` bytes of `fd` at `offset` (MAP_SHARED). */
export function mapFile(fd: number, offset: number, length: number, options: MapOptions): MemoryMapping {
  checkFd(fd, 'mmap');
  checkPageOffset(offset, 'mmap');
  checkMapOptions(options, 'mmap');
  if (!Number.isInteger(length) || length < 1 || length > MAX_MAPPING_BYTES) {
    throw invalid('mmap', `length ${String(length)} must be an integer from 1 to ${MAX_MAPPING_BYTES}`);
  }
  const { MappingHandle } = loadAddon();
  const handle = callNative({ what: `map ${length} bytes of fd ${fd} at offset ${offset}`, syscall: 'mmap' },
    () => new MappingHandle(fd, offset, length, options.writable));
  return new MemoryMapping(handle);
}

/** Map several 4 KiB pages (possibly of different fds) contiguously, in the given order. */
export function mapFilePages(pages: readonly FilePage[], options: MapOptions): MemoryMapping {
  checkMapOptions(options, 'mmap');
  if (!Array.isArray(pages) || pages.length < 1 || pages.length * PAGE_SIZE > MAX_MAPPING_BYTES) {
    throw invalid('mmap', `pages must be a non-empty array of at most ${MAX_MAPPING_BYTES / PAGE_SIZE} pages`);
  }
  const fds: number[] = [];
  const offsets: number[] = [];
  for (const page of pages) {
    checkFd(page.fd, 'mmap');
    checkPageOffset(page.offset, 'mmap');
    fds.push(page.fd);
    offsets.push(page.offset);
  }
  const { MappingHandle } = loadAddon();
  const handle = callNative({ what: `map ${pages.length} file pages`, syscall: 'mmap' },
    () => new MappingHandle(fds, offsets, options.writable));
  return new MemoryMapping(handle);
}

/**
 * An anonymous shared file of `size` bytes (memfd_create, close-on-exec): lets tests and the
 * simulated host exercise mappings without Xen. Close it with fs.closeSync.
 */
export function memfdCreate(name: string, size: number): number {
  if (typeof name !== 'string') throw invalid('memfd_create', 'name must be a string');
  if (!Number.isSafeInteger(size) || size < 0) throw invalid('memfd_create', `size ${String(size)} must be a non-negative integer`);
  const addon = loadAddon();
  return callNative({ what: `create a ${size}-byte memfd`, syscall: 'memfd_create' }, () => addon.memfdCreate(name, size));
}
