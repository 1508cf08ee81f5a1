/**
 * Event channels of the loopback host. A port belongs to one backend ("process") of one domain;
 * notify() marks the connected peer port pending and delivery happens later on the event loop
 * (setImmediate), coalesced: any number of notifies before delivery give one 'event', like
 * the evtchn device's pending bit.
 */
import { EventEmitter } from 'eventemitter3';
import type { DomId, EventChannel, EventChannelEvents, EventChannelStatus, EvtchnPort } from '@xenipc/core';

export class LoopbackEventChannel extends EventEmitter<EventChannelEvents> implements EventChannel {
  /** The other end, while interdomain. */
  peerPort: LoopbackEventChannel | undefined;
  private state: 'unbound' | 'interdomain' | 'closed' = 'unbound';
  private pending = false;

  constructor(
    readonly localPort: EvtchnPort,
    readonly remoteDomain: DomId,
    readonly ownerDomain: DomId,
    private readonly onClose: (port: LoopbackEventChannel) => void,
  ) {
    super();
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get isUnbound(): boolean {
    return this.state === 'unbound';
  }

  connect(peer: LoopbackEventChannel): void {
    this.peerPort = peer;
    this.state = 'interdomain';
  }

  /** The other end went away (closed, or its domain died): back to unbound, as in Xen. */
  disconnect(): void {
    this.peerPort = undefined;
    if (this.state === 'interdomain') this.state = 'unbound';
  }

  notify(): void {
    const peer = this.peerPort;
    if (this.state === 'interdomain' && peer !== undefined) peer.raise();
  }

  raise(): void {
    if (this.state === 'closed' || this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      if (this.state !== 'closed') this.emit('event');
    });
  }

  status(): Promise<EventChannelStatus> {
    return Promise.resolve(this.state);
  }

  close(): void {
    if (this.state === 'closed') return;
    const peer = this.peerPort;
    this.state = 'closed';
    this.peerPort = undefined;
    peer?.disconnect();
    this.onClose(this);
  }
}
