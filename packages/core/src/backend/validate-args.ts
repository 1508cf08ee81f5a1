/**
 * Argument checks shared by every backend, run before any syscall or request, so that all
 * backends reject the same bad calls with the same XenError (code EINVAL, like the kernel).
 */
import { DOMID_MAX, type DomId } from './xen-backend.js';
import { XenError } from '../xen-error.js';

/** gntalloc's default global limit, and the most pages one call may share or map here. */
export const MAX_PAGES_PER_CALL = 1024;

function invalid(syscall: string, message: string): XenError {
  return new XenError({ code: 'EINVAL', syscall, message });
}

export function checkDomid(domid: DomId, syscall: string): void {
  if (!Number.isInteger(domid) || domid < 0 || domid > DOMID_MAX) {
    throw invalid(syscall, `domid ${String(domid)} is not a domain id (an integer 0..${DOMID_MAX})`);
  }
}

export function checkU32(value: number, what: string, syscall: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw invalid(syscall, `${what} ${String(value)} is not an unsigned 32-bit integer`);
  }
}

export function checkPageCount(count: number, syscall: string, max = MAX_PAGES_PER_CALL): void {
  if (!Number.isInteger(count) || count < 1 || count > max) {
    throw invalid(syscall, `page count ${String(count)} must be an integer from 1 to ${max}`);
  }
}

export function checkGrantRefs(refs: readonly number[], syscall: string, max = MAX_PAGES_PER_CALL): void {
  checkPageCount(refs.length, syscall, max);
  for (const ref of refs) checkU32(ref, 'grant ref', syscall);
}

export function checkPort(port: number, syscall: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 0xffff_ffff) {
    throw invalid(syscall, `event channel port ${String(port)} must be an integer from 1 to 2^32-1`);
  }
}

/** The byte to clear on unmap must lie inside the region. */
export function checkNotifyOffset(offset: number, regionBytes: number, syscall: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset >= regionBytes) {
    throw invalid(syscall, `unmap-notify offset ${String(offset)} is outside the ${regionBytes}-byte mapping`);
  }
}
