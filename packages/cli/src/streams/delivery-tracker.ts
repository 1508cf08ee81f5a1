/**
 * How many of the bytes we wrote into a channel the peer has consumed, including at the moment
 * the peer closed it.
 *
 * vchan has no acknowledgement and no half-close; the only evidence of delivery is the peer's
 * consumer index of our write ring: `writeRingSize - bufferSpace` bytes are still unread. While
 * the channel is open that is one public read (VchanEndpoint.bufferSpace). The hard moment is
 * the peer's close: a peer that reads our last bytes and closes at once is seen in ONE event,
 * and VchanEndpoint handles that event by ending the channel and unmapping the ring before any
 * listener of ours runs, so the final consumer index can no longer be read.
 *
 * So the tracker hands the channel a backend that is the real one except that every event
 * channel it binds gets a listener of ours first (listeners run in the order they were added,
 * and the endpoint adds its own after the bind). That listener samples the unconsumed count
 * just before the endpoint looks at the peer's state. The peer publishes its consumer index
 * before it clears its live byte, so a read that precedes the event is always counted; only a
 * read and close both landing in the instant between our sample and the endpoint's check (the
 * same synchronous event handler) would be missed, and that errs on the safe side ("not
 * delivered"). The session also samples after each of its own writes, so the last sample is an
 * upper bound of what was unread when the channel ended: never an over-count of delivery.
 *
 * What @xenipc/channel could offer instead (see the package README): the unconsumed count
 * frozen when the end is detected, e.g. `endpoint.unconsumedAtEnd`, and `waitConsumed()`.
 */
import type { VchanEndpoint } from '@xenipc/channel';
import type {
  DomainPresence,
  DomId,
  EventChannel,
  EvtchnPort,
  ForeignMapping,
  GrantedPages,
  GrantRef,
  XenBackend,
  XenStore,
} from '@xenipc/core';

export class DeliveryTracker {
  /** Hand this to VchanServer.listen / VchanClient.connect instead of the real backend. */
  readonly backend: XenBackend;
  private endpoint: VchanEndpoint | undefined;
  private lastUnconsumed = 0;

  constructor(inner: XenBackend) {
    this.backend = new SamplingBackend(inner, (evtchn) => evtchn.on('event', () => this.sampleFor(evtchn.localPort)));
  }

  /** The channel opened through `backend`; sampling starts now. */
  attach(endpoint: VchanEndpoint): void {
    this.endpoint = endpoint;
    this.sample();
  }

  /** Record how much of what we wrote is still unread (no-op once the channel ended). */
  sample(): void {
    const ep = this.endpoint;
    if (ep === undefined || ep.closeReason !== undefined) return;
    this.lastUnconsumed = ep.writeRingSize - ep.bufferSpace;
  }

  /**
   * Bytes we wrote that the peer has not consumed: live while the channel is open, else the last
   * sample (an upper bound; exact when the end was a peer's close, seen through an event).
   */
  get unconsumed(): number {
    this.sample();
    return this.lastUnconsumed;
  }

  private sampleFor(port: EvtchnPort): void {
    if (this.endpoint?.localPort === port) this.sample();
  }
}

/** A XenBackend that is `inner`, except that each event channel it binds is shown to `onBind` first. */
class SamplingBackend implements XenBackend {
  constructor(
    private readonly inner: XenBackend,
    private readonly onBind: (evtchn: EventChannel) => void,
  ) {}

  get defaultSpinMicros(): number | undefined {
    return this.inner.defaultSpinMicros;
  }

  get domid(): DomId {
    return this.inner.domid;
  }

  get xenstore(): XenStore {
    return this.inner.xenstore;
  }

  share(peer: DomId, pageCount: number, options?: { writable?: boolean }): Promise<GrantedPages> {
    return this.inner.share(peer, pageCount, options);
  }

  map(peer: DomId, refs: readonly GrantRef[], options?: { writable?: boolean }): Promise<ForeignMapping> {
    return this.inner.map(peer, refs, options);
  }

  async bindUnbound(peer: DomId): Promise<EventChannel> {
    const evtchn = await this.inner.bindUnbound(peer);
    this.onBind(evtchn);
    return evtchn;
  }

  async bindInterdomain(peer: DomId, remotePort: EvtchnPort): Promise<EventChannel> {
    const evtchn = await this.inner.bindInterdomain(peer, remotePort);
    this.onBind(evtchn);
    return evtchn;
  }

  probeDomain(domid: DomId): Promise<DomainPresence> {
    return this.inner.probeDomain(domid);
  }

  /** The real backend is closed by whoever opened it, not through the tracker. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
