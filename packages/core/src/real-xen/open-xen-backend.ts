/**
 * openXenBackend(): the XenBackend over the real devices. share = gntalloc ALLOC_GREF + mmap,
 * map = gntdev MAP_GRANT_REF + mmap, event channels through /dev/xen/evtchn, xenstore through
 * connectXenStore(). /dev/xen/evtchn is opened at once (so a machine without Xen fails here,
 * with ENOENT); the grant devices are opened on first use, so a domain lacking one of them can
 * still use the other.
 */
import { checkDomid, checkGrantRefs, checkPageCount, checkPort } from '../backend/validate-args.js';
import type { DomainPresence, DomId, EventChannel, EvtchnPort, ForeignMapping, GrantedPages, GrantRef, XenBackend, XenStore } from '../backend/xen-backend.js';
import type { XenDeviceName } from '../native/device-errors.js';
import { EventChannelDevice } from '../native/event-channel-device.js';
import { GrantAllocator } from '../native/grant-allocator.js';
import { GrantMapper } from '../native/grant-mapper.js';
import { XenError } from '../xen-error.js';
import { readOwnDomid, XEN_CAPABILITIES_PATH } from './own-domid.js';
import { XenEventChannel } from './xen-event-channel.js';
import { XenForeignMapping, XenGrantedPages } from './xen-grants.js';

export interface OpenXenBackendOptions {
  /** Use this xenstore client (the backend then does not close it); default: connectXenStore(). */
  xenstore?: XenStore;
  /** Path for connectXenStore() (a xenstored socket or a xenbus device). */
  xenstorePath?: string;
  /** Our domid, if known; default: 0 in dom0, else xenstore "domid". */
  domid?: DomId;
  /** Device paths, default /dev/xen/<name>. */
  devices?: Partial<Record<XenDeviceName, string>>;
  /** Default /proc/xen/capabilities. */
  capabilitiesPath?: string;
}

class RealXenBackend implements XenBackend {
  #gntdev: GrantMapper | undefined;
  #gntalloc: GrantAllocator | undefined;
  readonly #shared = new Set<XenGrantedPages>();
  readonly #mapped = new Set<XenForeignMapping>();
  readonly #channels = new Set<XenEventChannel>();
  readonly #ownsChannel = (channel: XenEventChannel): boolean => this.#channels.has(channel);
  #closed = false;

  constructor(
    readonly domid: DomId,
    readonly xenstore: XenStore,
    private readonly ownsXenstore: boolean,
    private readonly evtchn: EventChannelDevice,
    private readonly devicePaths: Partial<Record<XenDeviceName, string>>,
  ) {}

  #gntallocDevice(): GrantAllocator {
    this.#gntalloc ??= GrantAllocator.open({ path: this.devicePaths.gntalloc });
    return this.#gntalloc;
  }

  #gntdevDevice(): GrantMapper {
    this.#gntdev ??= GrantMapper.open({ path: this.devicePaths.gntdev });
    return this.#gntdev;
  }

  async share(peer: DomId, pageCount: number, options: { writable?: boolean } = {}): Promise<GrantedPages> {
    checkDomid(peer, 'IOCTL_GNTALLOC_ALLOC_GREF');
    checkPageCount(pageCount, 'IOCTL_GNTALLOC_ALLOC_GREF');
    this.#requireOpen();
    const shared = this.#gntallocDevice().share(peer, pageCount, { writable: options.writable ?? true });
    const pages = new XenGrantedPages(shared, this.#ownsChannel, (p) => this.#shared.delete(p));
    this.#shared.add(pages);
    return pages;
  }

  async map(peer: DomId, refs: readonly GrantRef[], options: { writable?: boolean } = {}): Promise<ForeignMapping> {
    checkDomid(peer, 'IOCTL_GNTDEV_MAP_GRANT_REF');
    checkGrantRefs(refs, 'IOCTL_GNTDEV_MAP_GRANT_REF');
    this.#requireOpen();
    const mapping = this.#gntdevDevice().map(peer, refs, { writable: options.writable ?? true });
    const foreign = new XenForeignMapping(mapping, this.#ownsChannel, (m) => this.#mapped.delete(m));
    this.#mapped.add(foreign);
    return foreign;
  }

  async bindUnbound(peer: DomId): Promise<EventChannel> {
    checkDomid(peer, 'IOCTL_EVTCHN_BIND_UNBOUND_PORT');
    this.#requireOpen();
    return this.#track(this.evtchn.bindUnboundPort(peer), peer);
  }

  async bindInterdomain(peer: DomId, remotePort: EvtchnPort): Promise<EventChannel> {
    checkDomid(peer, 'IOCTL_EVTCHN_BIND_INTERDOMAIN');
    checkPort(remotePort, 'IOCTL_EVTCHN_BIND_INTERDOMAIN');
    this.#requireOpen();
    return this.#track(this.evtchn.bindInterdomain(peer, remotePort), peer);
  }

  async probeDomain(domid: DomId): Promise<DomainPresence> {
    checkDomid(domid, 'IOCTL_EVTCHN_BIND_INTERDOMAIN');
    this.#requireOpen();
    return this.evtchn.probeDomain(domid);
  }

  #track(port: EvtchnPort, peer: DomId): XenEventChannel {
    const channel = new XenEventChannel(this.evtchn, port, peer, (c) => this.#channels.delete(c));
    this.#channels.add(channel);
    return channel;
  }

  #requireOpen(): void {
    if (this.#closed) {
      throw new XenError({ code: 'EBADF', syscall: 'backend', message: 'the Xen backend was already closed' });
    }
  }

  /** Unmaps and unshares (firing unmap notifications), unbinds ports, closes the devices and our xenstore connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const errors: unknown[] = [];
    const attempt = (release: () => void): void => {
      try {
        release();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const mapping of [...this.#mapped]) attempt(() => mapping.close());
    for (const pages of [...this.#shared]) attempt(() => pages.close());
    for (const channel of [...this.#channels]) attempt(() => channel.close());
    attempt(() => this.#gntdev?.close());
    attempt(() => this.#gntalloc?.close());
    attempt(() => this.evtchn.close());
    if (this.ownsXenstore) attempt(() => this.xenstore.close());
    if (errors.length > 0) throw errors[0];
  }
}

export async function openXenBackend(options: OpenXenBackendOptions = {}): Promise<XenBackend> {
  const devices = options.devices ?? {};
  const evtchn = EventChannelDevice.open({ path: devices.evtchn });
  let xenstore: XenStore | undefined = options.xenstore;
  const ownsXenstore = xenstore === undefined;
  try {
    if (xenstore === undefined) {
      // Imported lazily: only the real backend needs the xenstore connection code.
      const { connectXenStore } = await import('../xenstore/index.js');
      xenstore = await connectXenStore(options.xenstorePath === undefined ? {} : { path: options.xenstorePath });
    }
    const domid = options.domid ?? (await readOwnDomid(xenstore, options.capabilitiesPath ?? XEN_CAPABILITIES_PATH));
    checkDomid(domid, 'openXenBackend');
    return new RealXenBackend(domid, xenstore, ownsXenstore, evtchn, devices);
  } catch (err) {
    evtchn.close();
    if (ownsXenstore) xenstore?.close();
    throw err;
  }
}
