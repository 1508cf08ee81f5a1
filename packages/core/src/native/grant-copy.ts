/**
 * IOCTL_GNTDEV_GRANT_COPY arguments: the hypervisor copies between grants and local buffers
 * without mapping anything. Checked here so the kernel only ever sees in-bounds segments.
 */
import { checkDomid, checkU32 } from '../backend/validate-args.js';
import { PAGE_SIZE, type DomId, type GrantRef } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';
import type { NativeGrantCopySegment } from './native-addon.js';
import { GNTCOPY_DEST_GREF, GNTCOPY_SOURCE_GREF } from './uapi-constants.js';

/** One side of a copy: bytes of a peer's grant, or of a local buffer. */
export type GrantCopyEnd =
  | { ref: GrantRef; domid: DomId; offset: number }
  | { buffer: ArrayBufferView; byteOffset?: number };

export interface GrantCopySegment {
  source: GrantCopyEnd;
  dest: GrantCopyEnd;
  /** Bytes to copy, 1..4096; a grant side must stay inside its page. */
  length: number;
}

/** Most segments accepted in one call (the kernel batches them; this only bounds the work). */
export const MAX_GRANT_COPY_SEGMENTS = 65_536;

const SYSCALL = 'IOCTL_GNTDEV_GRANT_COPY';

function invalid(message: string): XenError {
  return new XenError({ code: 'EINVAL', syscall: SYSCALL, message });
}

function isGrantEnd(end: GrantCopyEnd): end is { ref: GrantRef; domid: DomId; offset: number } {
  return typeof (end as { ref?: unknown }).ref === 'number';
}

function checkEnd(end: GrantCopyEnd, length: number, side: string): void {
  if (isGrantEnd(end)) {
    checkU32(end.ref, `${side} grant ref`, SYSCALL);
    checkDomid(end.domid, SYSCALL);
    if (!Number.isInteger(end.offset) || end.offset < 0 || end.offset + length > PAGE_SIZE) {
      throw invalid(`${side} offset ${String(end.offset)} + length ${length} must stay inside one ${PAGE_SIZE}-byte grant page`);
    }
    return;
  }
  if (!ArrayBuffer.isView(end.buffer)) throw invalid(`${side} must name a grant ({ref, domid, offset}) or a local buffer ({buffer})`);
  const byteOffset = end.byteOffset ?? 0;
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset + length > end.buffer.byteLength) {
    throw invalid(`${side} byteOffset ${String(byteOffset)} + length ${length} exceeds the ${end.buffer.byteLength}-byte buffer`);
  }
}

/** Validates and converts segments into the addon's packing. */
export function toNativeSegments(segments: readonly GrantCopySegment[]): NativeGrantCopySegment[] {
  if (!Array.isArray(segments) || segments.length < 1 || segments.length > MAX_GRANT_COPY_SEGMENTS) {
    throw invalid(`segments must be an array of 1 to ${MAX_GRANT_COPY_SEGMENTS} copies`);
  }
  return segments.map((segment, i) => {
    const { source, dest, length } = segment;
    if (!Number.isInteger(length) || length < 1 || length > PAGE_SIZE) {
      throw invalid(`segment ${i}: length ${String(length)} must be an integer from 1 to ${PAGE_SIZE}`);
    }
    checkEnd(source, length, `segment ${i} source`);
    checkEnd(dest, length, `segment ${i} dest`);
    const native: NativeGrantCopySegment = { flags: 0, len: length };
    if (isGrantEnd(source)) {
      native.flags |= GNTCOPY_SOURCE_GREF;
      Object.assign(native, { sourceRef: source.ref, sourceDomid: source.domid, sourceOffset: source.offset });
    } else {
      Object.assign(native, { sourceBuffer: source.buffer, sourceByteOffset: source.byteOffset ?? 0 });
    }
    if (isGrantEnd(dest)) {
      native.flags |= GNTCOPY_DEST_GREF;
      Object.assign(native, { destRef: dest.ref, destDomid: dest.domid, destOffset: dest.offset });
    } else {
      Object.assign(native, { destBuffer: dest.buffer, destByteOffset: dest.byteOffset ?? 0 });
    }
    // The kernel refuses local-to-local copies (EINVAL); say so before asking it.
    if (native.flags === 0) throw invalid(`segment ${i}: at least one side must be a grant`);
    return native;
  });
}
