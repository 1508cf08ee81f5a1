/** An event-channel port of a simulated domain. notify() is one atomic op, plus one datagram if the peer has no event pending. */
import { EventEmitter } from 'eventemitter3';
import type { DomId, EventChannel, EventChannelEvents, EventChannelStatus, EvtchnPort } from '@xenipc/core';
import type { PeerRoute } from './event-links.js';

/** What a channel needs from its backend (kept narrow so the channel cannot reach anything else). */
export interface SimChannelHost {
  /** Send through the host: used while we do not know a direct route (unbound, or peer gone). */
  notifyViaHost(port: EvtchnPort): void;
  status(port: EvtchnPort): Promise<EventChannelStatus>;
  unbind(channel: SimEventChannel): void;
}

export class SimEventChannel extends EventEmitter<EventChannelEvents> implements EventChannel {
  readonly localPort: EvtchnPort;
  readonly remoteDomain: DomId;
  readonly #host: SimChannelHost;
  #route: PeerRoute | undefined;
  #remotePort = 0;
  #userClosed = false;
  #unbound = false;
  /** Unmap notifications that will send on this port: they keep it bound, as evtchn_get does. */
  #notifyRefs = 0;

  /** Notifies go straight to the peer's process (not through the host): the connected state. */
  get hasDirectRoute(): boolean {
    return this.#route !== undefined;
  }

  constructor(host: SimChannelHost, localPort: EvtchnPort, remoteDomain: DomId) {
    super();
    this.#host = host;
    this.localPort = localPort;
    this.remoteDomain = remoteDomain;
  }

  get closed(): boolean {
    return this.#userClosed;
  }

  notify(): void {
    if (!this.#userClosed) this.sendEvent();
  }

  /** @internal Also used by unmap notifications after the user closed the channel. */
  sendEvent(): void {
    if (this.#unbound) return;
    const route = this.#route;
    if (route === undefined || !route.raise(this.#remotePort)) this.#host.notifyViaHost(this.localPort);
  }

  status(): Promise<EventChannelStatus> {
    if (this.#unbound) return Promise.resolve('closed');
    return this.#host.status(this.localPort);
  }

  close(): void {
    if (this.#userClosed) return;
    this.#userClosed = true;
    if (this.#notifyRefs === 0) this.#unbind();
  }

  /** @internal The peer is reachable directly. */
  connect(route: PeerRoute, remotePort: EvtchnPort): void {
    this.#route = route;
    this.#remotePort = remotePort;
  }

  /** @internal The peer unbound or died: events go to the host, which drops them while unbound. */
  disconnect(): void {
    this.#route = undefined;
  }

  /** @internal */
  deliver(): void {
    if (!this.#userClosed) this.emit('event');
  }

  /** @internal The backend lost the host. */
  fail(err: Error): void {
    this.#unbound = true;
    this.#route = undefined;
    if (!this.#userClosed) this.emit('error', err);
  }

  /** @internal */
  retain(): void {
    this.#notifyRefs++;
  }

  /** @internal */
  release(): void {
    this.#notifyRefs--;
    if (this.#notifyRefs === 0 && this.#userClosed) this.#unbind();
  }

  #unbind(): void {
    if (this.#unbound) return;
    this.#unbound = true;
    this.#route = undefined;
    this.#host.unbind(this);
  }
}
