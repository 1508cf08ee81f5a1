/** The local port an UnmapNotify names, checked to belong to this backend and be open. */
import type { UnmapNotify } from '../backend/xen-backend.js';
import type { UnmapNotifyRequest } from '../native/unmap-notify-args.js';
import { XenError } from '../xen-error.js';
import { XenEventChannel } from './xen-event-channel.js';

export function toNotifyRequest(notify: UnmapNotify, ownsChannel: (channel: XenEventChannel) => boolean, syscall: string): UnmapNotifyRequest {
  const request: UnmapNotifyRequest = {};
  if (notify.clearByte !== undefined) request.clearByte = notify.clearByte;
  if (notify.sendEvent !== undefined) {
    const channel = notify.sendEvent;
    if (!(channel instanceof XenEventChannel) || !ownsChannel(channel) || channel.closed) {
      throw new XenError({ code: 'EINVAL', syscall, message: 'unmap-notify sendEvent must be an open event channel bound through this backend' });
    }
    request.port = channel.localPort;
  }
  return request;
}
