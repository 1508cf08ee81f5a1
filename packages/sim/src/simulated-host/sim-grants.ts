/**
 * Granted pages and foreign mappings of a simulated domain: views of a host memfd mapped into
 * this process. Closing does, in this process, what the kernel does on unmap (clear the notify
 * byte, unmap, send the notify event); if the process dies first, the host does it instead.
 */
import {
  type DomainPresence,
  type DomId,
  type ForeignMapping,
  type GrantedPages,
  type GrantRef,
  type MemoryMapping,
  type UnmapNotify,
  XenError,
} from '@xenipc/core';
import { checkNotifyOffset } from '@xenipc/core/backend-kit';
import type { ProbeDomainReply } from './host-protocol.js';
import { SimEventChannel } from './sim-event-channel.js';

/** The backend services a region needs. */
export interface SimRegionHost {
  /** Channels bound through this backend (unmap notify may only use those). */
  ownsChannel(channel: unknown): channel is SimEventChannel;
  registerNotify(target: 'share' | 'map', id: number, clearByte: number | undefined, port: number | undefined): void;
  /** Xen's view of `domid` (see XenBackend.probeDomain / ForeignMapping.probeOwner). */
  domainState(domid: DomId): Promise<ProbeDomainReply>;
  released(region: SimRegion): void;
}

export abstract class SimRegion {
  readonly peer: DomId;
  readonly refs: readonly GrantRef[];
  readonly writable: boolean;
  readonly hostId: number;
  readonly #mapping: MemoryMapping;
  readonly #host: SimRegionHost;
  #clearByte: number | undefined;
  #event: SimEventChannel | undefined;
  #closed = false;

  constructor(host: SimRegionHost, hostId: number, peer: DomId, refs: readonly GrantRef[], writable: boolean, mapping: MemoryMapping) {
    this.#host = host;
    this.hostId = hostId;
    this.peer = peer;
    this.refs = refs;
    this.writable = writable;
    this.#mapping = mapping;
  }

  protected abstract readonly target: 'share' | 'map';
  protected abstract readonly notifySyscall: string;

  get buffer(): ArrayBuffer {
    return this.#mapping.buffer;
  }

  get closed(): boolean {
    return this.#closed;
  }

  protected get regionHost(): SimRegionHost {
    return this.#host;
  }

  setUnmapNotify(notify: UnmapNotify): void {
    const syscall = this.notifySyscall;
    if (this.#closed) throw new XenError({ code: 'ENOENT', syscall, message: 'the pages are already unmapped' });
    if (notify.clearByte !== undefined) {
      checkNotifyOffset(notify.clearByte, this.#mapping.byteLength, syscall);
      if (!this.writable) throw new XenError({ code: 'EINVAL', syscall, message: 'unmap-notify cannot clear a byte of a read-only mapping' });
    }
    const channel = notify.sendEvent;
    if (channel !== undefined && (!this.#host.ownsChannel(channel) || channel.closed)) {
      throw new XenError({ code: 'EINVAL', syscall, message: 'unmap-notify needs an open event channel bound through the same backend' });
    }
    channel?.retain();
    this.#event?.release();
    this.#clearByte = notify.clearByte;
    this.#event = channel;
    this.#host.registerNotify(this.target, this.hostId, notify.clearByte, channel?.localPort);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#clearByte !== undefined) new Uint8Array(this.#mapping.buffer)[this.#clearByte] = 0;
    this.#mapping.unmap();
    if (this.#event !== undefined) {
      this.#event.sendEvent();
      this.#event.release();
      this.#event = undefined;
    }
    this.#host.released(this);
  }
}

export class SimGrantedPages extends SimRegion implements GrantedPages {
  protected readonly target = 'share';
  protected readonly notifySyscall = 'IOCTL_GNTALLOC_SET_UNMAP_NOTIFY';
}

export class SimForeignMapping extends SimRegion implements ForeignMapping {
  protected readonly target = 'map';
  protected readonly notifySyscall = 'IOCTL_GNTDEV_SET_UNMAP_NOTIFY';

  /** As Xen: a grant copy from a dying domain fails (GNTST_bad_domain) while our mapping lasts. */
  async probeOwner(): Promise<DomainPresence> {
    if (this.closed) return 'unknown';
    const { presence, dying } = await this.regionHost.domainState(this.peer);
    return presence === 'present' && !dying ? 'present' : 'absent';
  }
}
