/** XenBackend of one simulated domain (one process joined to a simulated host). */
import {
  type DomainPresence,
  type DomId,
  type EventChannelStatus,
  type EvtchnPort,
  type GrantRef,
  PAGE_SIZE,
  type XenBackend,
  type XenStoreClient,
  XenError,
} from '@xenipc/core';
import { checkDomid, checkGrantRefs, checkPageCount, checkPort } from '@xenipc/core/backend-kit';
import type { EventLinks } from './event-links.js';
import type { HostConnection } from './host-connection.js';
import type { BindReply, HostPush, MapReply, PeerEndpoint, ProbeDomainReply, ShareReply, SimLedger, SimLedgerDomain, StatusReply } from './host-protocol.js';
import { mapSharedFile, mapSharedPages } from './shared-file-mapping.js';
import { SimEventChannel, type SimChannelHost } from './sim-event-channel.js';
import { SimForeignMapping, SimGrantedPages, type SimRegion, type SimRegionHost } from './sim-grants.js';

/** What one simulated domain holds, as the host and its own process see it (for leak checks). */
export interface SimDomainResources {
  /** The host's ledger line for this domain. */
  host: SimLedgerDomain;
  /** Granted pages and foreign mappings this process has not closed. */
  regions: number;
  /** Event channels this process has bound and not yet unbound. */
  channels: number;
  /** Events kept for ports whose bind had not completed when they arrived (see onEvent). */
  earlyEvents: number;
  /** Peer domains this process has a direct event link to (one socket and one mapped page each). */
  peerLinks: number;
}

export class SimBackend implements XenBackend, SimChannelHost, SimRegionHost {
  readonly domid: DomId;
  readonly xenstore: XenStoreClient;
  readonly #host: HostConnection;
  readonly #links: EventLinks;
  readonly #channels = new Map<EvtchnPort, SimEventChannel>();
  readonly #regions = new Set<SimRegion>();
  /**
   * Events that arrived, while a bind of ours was in flight, for a port we do not have (yet):
   * port -> sending domain. Emptied when no bind is in flight any more.
   */
  readonly #early = new Map<EvtchnPort, DomId>();
  /** Bind requests sent and not yet answered. */
  #bindsInFlight = 0;
  #closed = false;

  readonly #openXenStore: () => Promise<XenStoreClient>;

  constructor(domid: DomId, host: HostConnection, links: EventLinks, xenstore: XenStoreClient, openXenStore: () => Promise<XenStoreClient>) {
    this.domid = domid;
    this.#openXenStore = openXenStore;
    this.#host = host;
    this.#links = links;
    this.xenstore = xenstore;
    host.onPush = (push) => this.#onPush(push);
    host.onClose = (err) => {
      for (const channel of [...this.#channels.values()]) channel.fail(err);
      this.#channels.clear();
      this.#links.close(); // the host is gone: nothing can arrive, nothing may keep the process alive
    };
  }

  /** Called by EventLinks for every event frame addressed to this domain. */
  onEvent(from: DomId, port: EvtchnPort): void {
    const channel = this.#channels.get(port);
    if (channel === undefined) {
      // A peer that has just bound to our port may notify us directly before the host's reply
      // to our own bind has arrived (two different sockets): keep it for #addChannel. Without a
      // bind in flight it is a late event for a port we closed (the peer had not yet heard that
      // it was unbound): dropped, as Xen drops events to a closed port. Kept, such events would
      // pile up, one per closed port, up to PORTS_PER_DOMAIN.
      if (from !== -1 && this.#bindsInFlight > 0) this.#early.set(port, from);
      return;
    }
    // from === -1: relayed by the host, which already checked who may send on this port.
    if (from === -1 || channel.remoteDomain === from) channel.deliver();
  }

  /**
   * Another xenstore connection of this domain (like a second xs_open()): its own watches and
   * transactions. The caller closes it; the host drops it when the domain goes.
   */
  connectXenStore(): Promise<XenStoreClient> {
    return this.#openXenStore();
  }

  async share(peer: DomId, pageCount: number, options: { writable?: boolean } = {}): Promise<SimGrantedPages> {
    checkDomid(peer, 'IOCTL_GNTALLOC_ALLOC_GREF');
    checkPageCount(pageCount, 'IOCTL_GNTALLOC_ALLOC_GREF');
    const writable = options.writable ?? true;
    const reply = await this.#host.request<ShareReply>('share', { peer, pageCount, writable });
    let mapping;
    try {
      mapping = mapSharedFile(reply.file, pageCount * PAGE_SIZE, true);
    } catch (err) {
      this.#host.send('unshare', { shareId: reply.shareId });
      throw err;
    }
    const pages = new SimGrantedPages(this, reply.shareId, peer, Object.freeze([...reply.refs]), writable, mapping);
    this.#regions.add(pages);
    return pages;
  }

  async map(peer: DomId, refs: readonly GrantRef[], options: { writable?: boolean } = {}): Promise<SimForeignMapping> {
    checkDomid(peer, 'IOCTL_GNTDEV_MAP_GRANT_REF');
    checkGrantRefs(refs, 'IOCTL_GNTDEV_MAP_GRANT_REF');
    const writable = options.writable ?? true;
    const reply = await this.#host.request<MapReply>('map', { peer, refs: [...refs], writable });
    let mapping;
    try {
      mapping = mapSharedPages(reply.pages, writable);
    } catch (err) {
      this.#host.send('unmap', { mapId: reply.mapId });
      throw err;
    }
    const region = new SimForeignMapping(this, reply.mapId, peer, Object.freeze([...refs]), writable, mapping);
    this.#regions.add(region);
    return region;
  }

  async bindUnbound(peer: DomId): Promise<SimEventChannel> {
    checkDomid(peer, 'IOCTL_EVTCHN_BIND_UNBOUND_PORT');
    return this.#bind('bind-unbound', peer, {});
  }

  async bindInterdomain(peer: DomId, remotePort: EvtchnPort): Promise<SimEventChannel> {
    checkDomid(peer, 'IOCTL_EVTCHN_BIND_INTERDOMAIN');
    checkPort(remotePort, 'IOCTL_EVTCHN_BIND_INTERDOMAIN');
    return this.#bind('bind-interdomain', peer, { remotePort });
  }

  async probeDomain(domid: DomId): Promise<DomainPresence> {
    checkDomid(domid, 'IOCTL_EVTCHN_BIND_INTERDOMAIN');
    return (await this.domainState(domid)).presence;
  }

  // SimRegionHost
  domainState(domid: DomId): Promise<ProbeDomainReply> {
    return this.#host.request<ProbeDomainReply>('probe-domain', { domid });
  }

  /**
   * This domain's resources, counted by the host and by this process. The host answers after it
   * has handled every earlier request of this domain (one ordered connection), so closes that
   * were sent without waiting (unshare, unmap, unbind) are already counted: no polling needed.
   */
  async resources(): Promise<SimDomainResources> {
    const { ledger } = await this.#host.request<{ ledger: SimLedger }>('ledger');
    const host = ledger.domains.find((d) => d.domid === this.domid);
    if (host === undefined) throw new XenError({ code: 'ENOENT', syscall: 'ledger', message: `the simulated host does not know domain ${this.domid}` });
    return { host, regions: this.#regions.size, channels: this.#channels.size, earlyEvents: this.#early.size, peerLinks: this.#links.peerCount };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const region of [...this.#regions]) region.close();
    for (const channel of [...this.#channels.values()]) channel.close();
    this.xenstore.close();
    // The host releases what is left and answers; the ledger is exact once close() resolves.
    await this.#host.request('bye').catch(() => undefined);
    this.#host.close();
    this.#links.close();
  }

  // SimChannelHost
  notifyViaHost(port: EvtchnPort): void {
    this.#host.send('notify', { port });
  }

  async status(port: EvtchnPort): Promise<EventChannelStatus> {
    return (await this.#host.request<StatusReply>('status', { port })).status;
  }

  unbind(channel: SimEventChannel): void {
    if (this.#channels.get(channel.localPort) === channel) this.#channels.delete(channel.localPort);
    this.#early.delete(channel.localPort);
    this.#host.send('unbind', { port: channel.localPort });
  }

  // SimRegionHost
  ownsChannel(channel: unknown): channel is SimEventChannel {
    return channel instanceof SimEventChannel && this.#channels.get(channel.localPort) === channel;
  }

  registerNotify(target: 'share' | 'map', id: number, clearByte: number | undefined, port: number | undefined): void {
    this.#host.send('set-notify', { target, targetId: id, clearByte, port });
  }

  released(region: SimRegion): void {
    this.#regions.delete(region);
    if (region instanceof SimGrantedPages) this.#host.send('unshare', { shareId: region.hostId });
    else this.#host.send('unmap', { mapId: region.hostId });
  }

  /** Bind through the host; early events are kept while a bind is in flight (see onEvent). */
  async #bind(op: 'bind-unbound' | 'bind-interdomain', peer: DomId, args: Record<string, unknown>): Promise<SimEventChannel> {
    this.#bindsInFlight++;
    try {
      const reply = await this.#host.request<BindReply>(op, { peer, ...args });
      return this.#addChannel(reply.port, peer, reply.remote); // takes its early event, if any
    } finally {
      if (--this.#bindsInFlight === 0) this.#early.clear();
    }
  }

  #addChannel(port: EvtchnPort, peer: DomId, remote: PeerEndpoint | undefined): SimEventChannel {
    const channel = new SimEventChannel(this, port, peer);
    this.#channels.set(port, channel);
    if (remote !== undefined) this.#connect(channel, remote);
    const earlyFrom = this.#early.get(port);
    this.#early.delete(port);
    // Delivered after the caller has had the channel (and attached listeners); rare, not a hot path.
    if (earlyFrom === peer) setImmediate(() => channel.deliver());
    return channel;
  }

  #connect(channel: SimEventChannel, remote: PeerEndpoint): void {
    try {
      channel.connect(this.#links.routeTo(remote), remote.port);
    } catch {
      channel.disconnect(); // the peer vanished between bind and now: events go via the host
    }
  }

  #onPush(push: HostPush): void {
    switch (push.push) {
      case 'connected': {
        const channel = this.#channels.get(push.port);
        if (channel !== undefined) this.#connect(channel, push.remote);
        break;
      }
      case 'disconnected':
        this.#channels.get(push.port)?.disconnect();
        break;
      case 'event':
        this.#links.deliverFromHost(push.port);
        break;
      case 'released':
        this.#links.forget(push.domid);
        break;
    }
  }
}
