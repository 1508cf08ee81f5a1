/** Validation of SET_UNMAP_NOTIFY requests shared by gntdev and gntalloc mappings. */
import { checkNotifyOffset, checkPort } from '../backend/validate-args.js';
import { XenError } from '../xen-error.js';
import { UNMAP_NOTIFY_CLEAR_BYTE, UNMAP_NOTIFY_SEND_EVENT } from './uapi-constants.js';

export interface UnmapNotifyRequest {
  /** Byte offset inside the mapping to set to 0 when the mapping goes (needs a writable mapping). */
  clearByte?: number;
  /** Local event-channel port (bound through /dev/xen/evtchn) to notify when the mapping goes. */
  port?: number;
}

/** The ioctl's action bits and the byte offset (within the mapping) it names. */
export function unmapNotifyAction(request: UnmapNotifyRequest, byteLength: number, writable: boolean, syscall: string): { action: number; offset: number; port: number } {
  let action = 0;
  let offset = 0;
  let port = 0;
  if (request.clearByte !== undefined) {
    checkNotifyOffset(request.clearByte, byteLength, syscall);
    if (!writable) {
      throw new XenError({ code: 'EINVAL', syscall, message: 'unmap-notify clearByte needs a writable mapping (the kernel clears the byte through it)' });
    }
    action |= UNMAP_NOTIFY_CLEAR_BYTE;
    offset = request.clearByte;
  }
  if (request.port !== undefined) {
    checkPort(request.port, syscall);
    action |= UNMAP_NOTIFY_SEND_EVENT;
    port = request.port;
  }
  return { action, offset, port };
}
