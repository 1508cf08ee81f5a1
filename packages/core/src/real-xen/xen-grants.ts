/**
 * The backend's GrantedPages and ForeignMapping over the gntalloc and gntdev wrappers.
 */
import { type DomainPresence, type DomId, type ForeignMapping, type GrantedPages, type GrantRef, type UnmapNotify } from '../backend/xen-backend.js';
import type { GrantMapping } from '../native/grant-mapper.js';
import type { SharedGrantPages } from '../native/grant-allocator.js';
import { toNotifyRequest } from './unmap-notify-port.js';
import type { XenEventChannel } from './xen-event-channel.js';

type OwnsChannel = (channel: XenEventChannel) => boolean;

export class XenGrantedPages implements GrantedPages {
  constructor(
    private readonly shared: SharedGrantPages,
    private readonly ownsChannel: OwnsChannel,
    private readonly onClose: (pages: XenGrantedPages) => void,
  ) {}

  get peer(): DomId {
    return this.shared.domid;
  }
  get refs(): readonly GrantRef[] {
    return this.shared.refs;
  }
  get writable(): boolean {
    return this.shared.writable;
  }
  get buffer(): ArrayBuffer {
    return this.shared.buffer;
  }

  /** One notification per region (SharedGrantPages removes a previous one on another page). */
  setUnmapNotify(notify: UnmapNotify): void {
    this.shared.setUnmapNotify(toNotifyRequest(notify, this.ownsChannel, 'IOCTL_GNTALLOC_SET_UNMAP_NOTIFY'));
  }

  close(): void {
    if (this.shared.closed) return;
    this.shared.close();
    this.onClose(this);
  }
}

export class XenForeignMapping implements ForeignMapping {
  constructor(
    private readonly mapping: GrantMapping,
    private readonly ownsChannel: OwnsChannel,
    private readonly onClose: (mapping: XenForeignMapping) => void,
  ) {}

  get peer(): DomId {
    return this.mapping.domids[0] as DomId;
  }
  get refs(): readonly GrantRef[] {
    return this.mapping.refs;
  }
  get writable(): boolean {
    return this.mapping.writable;
  }
  get buffer(): ArrayBuffer {
    return this.mapping.buffer;
  }

  /** One notification per map (the kernel replaces the previous one). */
  setUnmapNotify(notify: UnmapNotify): void {
    this.mapping.setUnmapNotify(toNotifyRequest(notify, this.ownsChannel, 'IOCTL_GNTDEV_SET_UNMAP_NOTIFY'));
  }

  probeOwner(): Promise<DomainPresence> {
    try {
      return Promise.resolve(this.mapping.probeOwner());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  close(): void {
    if (this.mapping.closed) return;
    this.mapping.close();
    this.onClose(this);
  }
}
