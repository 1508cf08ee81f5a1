/**
 * Offsets into the file of /dev/xen/gntdev or /dev/xen/gntalloc: a registration's or
 * allocation's `index` (the mmap offset the device handed out, page aligned) and the byte
 * offsets SET_UNMAP_NOTIFY takes (index + byte). Checked before any ioctl.
 */
import { PAGE_SIZE } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';

export function checkMmapIndex(index: number, syscall: string): void {
  if (!Number.isSafeInteger(index) || index < 0 || index % PAGE_SIZE !== 0) {
    throw new XenError({ code: 'EINVAL', syscall, message: `index ${String(index)} is not an mmap offset returned by the device (a multiple of ${PAGE_SIZE})` });
  }
}

export function checkFileOffset(fileOffset: number, syscall: string): void {
  if (!Number.isSafeInteger(fileOffset) || fileOffset < 0) {
    throw new XenError({ code: 'EINVAL', syscall, message: `offset ${String(fileOffset)} is not a file offset` });
  }
}
