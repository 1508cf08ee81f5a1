/**
 * Direct event delivery between domain processes: the hot path of the simulation.
 *
 * Each domain process binds a Unix datagram socket at an abstract name and reads it with the
 * addon's PortPoller (a uv_poll_t, no Node stream in between). A sender keeps one datagram
 * socket connected to each peer domain and sends one 8-byte datagram per event: {its domid, the
 * receiver's port} (native/event_socket.cc). Like Xen's shared_info pending bits, every domain
 * has a pending page (one byte per port, a host memfd that peers map): notify() does
 * Atomics.exchange(byte, 1) and sends only if the byte was 0; the receiver clears the byte
 * BEFORE emitting 'event'. So n notifies before delivery give one datagram and one event, and
 * no wake-up is lost: a notify either finds the byte clear (and sends) or set (and a datagram is
 * already on its way, to be followed by an emit). A datagram that cannot go (the receiver's
 * queue is full, or it is gone) goes through the host instead, whose relayed event clears the
 * byte the same way.
 */
import { randomBytes } from 'node:crypto';
import type { DomId, EvtchnPort, MemoryMapping } from '@xenipc/core';
import { loadAddon, type NativeAddon, type NativePortPoller } from '@xenipc/core/backend-kit';
import { PORTS_PER_DOMAIN } from './host-event-channels.js';
import type { PeerEndpoint, SharedFile } from './host-protocol.js';
import { mapSharedFile } from './shared-file-mapping.js';
import { eventSocketName } from './sim-dir.js';

/** Datagrams taken per wake-up at most (two u32 each); more wait for the next one. */
const PAIRS_PER_WAKE = 256;

/** What a channel needs to send an event to its peer without the host. */
export class PeerRoute {
  readonly #addon: NativeAddon;
  readonly #from: DomId;
  readonly #pending: Uint8Array;
  #fd: number;

  constructor(addon: NativeAddon, from: DomId, pending: Uint8Array, fd: number) {
    this.#addon = addon;
    this.#from = from;
    this.#pending = pending;
    this.#fd = fd;
  }

  /**
   * Mark `port` pending at the peer and wake it if it was not. False if the event could not go
   * this way (route closed, queue full, peer gone): the caller sends it through the host.
   */
  raise(port: EvtchnPort): boolean {
    // Checked first: a closed route's pending page is unmapped (its view has length 0).
    if (this.#fd < 0) return false;
    if (Atomics.exchange(this.#pending, port, 1) !== 0) return true;
    return this.#addon.eventSocketSend(this.#fd, this.#from, port) === 0;
  }

  /** @internal */
  close(): void {
    if (this.#fd < 0) return;
    this.#addon.closeFd(this.#fd);
    this.#fd = -1;
  }
}

interface PeerDomain {
  mapping: MemoryMapping;
  route: PeerRoute;
}

export class EventLinks {
  readonly socketName: string;
  readonly #addon: NativeAddon;
  readonly #peers = new Map<DomId, PeerDomain>();
  readonly #onEvent: (from: DomId, port: EvtchnPort) => void;
  readonly #pairs = new Uint32Array(2 * PAIRS_PER_WAKE);
  #fd = -1;
  #poller: NativePortPoller | undefined;
  #ownMapping: MemoryMapping | undefined;
  #ownPending: Uint8Array = new Uint8Array(PORTS_PER_DOMAIN);
  #domid = 0;

  constructor(dir: string, onEvent: (from: DomId, port: EvtchnPort) => void) {
    this.socketName = eventSocketName(dir, process.pid, randomBytes(6).toString('hex'));
    this.#onEvent = onEvent;
    this.#addon = loadAddon();
  }

  /** Binds the event socket and starts reading it (this keeps the process alive until close()). */
  listen(): void {
    const addon = this.#addon;
    this.#fd = addon.eventSocketBind(this.socketName);
    const pairs = this.#pairs;
    this.#poller = new addon.PortPoller(
      this.#fd,
      pairs,
      (count) => {
        // The error argument is not read: recv() of a queued datagram on a bound socket has no
        // failure to report (EAGAIN, "nothing left", is handled in the addon).
        for (let i = 0; i + 1 < count; i += 2) this.#frame(pairs[i] as number, pairs[i + 1] as number);
      },
      true,
    );
    this.#poller.start();
  }

  attach(domid: DomId, pendingPage: SharedFile): void {
    this.#domid = domid;
    this.#ownMapping = mapSharedFile(pendingPage, PORTS_PER_DOMAIN, true);
    this.#ownPending = new Uint8Array(this.#ownMapping.buffer);
  }

  /** The route to a peer domain, connecting and mapping its pending page on first use. */
  routeTo(endpoint: PeerEndpoint): PeerRoute {
    const known = this.#peers.get(endpoint.domid);
    if (known !== undefined) return known.route;
    const mapping = mapSharedFile(endpoint.pendingPage, PORTS_PER_DOMAIN, true);
    let fd: number;
    try {
      fd = this.#addon.eventSocketConnect(endpoint.eventSocket);
    } catch (err) {
      mapping.unmap();
      throw err;
    }
    const route = new PeerRoute(this.#addon, this.#domid, new Uint8Array(mapping.buffer), fd);
    this.#peers.set(endpoint.domid, { mapping, route });
    return route;
  }

  /** Peer domains with a direct link (a connected socket and their mapped pending page). */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** The peer domain is gone: drop its link and pending page. */
  forget(domid: DomId): void {
    const peer = this.#peers.get(domid);
    if (peer === undefined) return;
    this.#peers.delete(domid);
    peer.route.close();
    peer.mapping.unmap();
  }

  /** An event that came through the host (slow path or unmap notification). */
  deliverFromHost(port: EvtchnPort): void {
    if (port < 1 || port >= PORTS_PER_DOMAIN) return;
    Atomics.store(this.#ownPending, port, 0);
    this.#onEvent(-1, port);
  }

  close(): void {
    for (const domid of [...this.#peers.keys()]) this.forget(domid);
    this.#poller?.stop();
    this.#poller = undefined;
    if (this.#fd >= 0) this.#addon.closeFd(this.#fd);
    this.#fd = -1;
    this.#ownMapping?.unmap();
    this.#ownMapping = undefined;
    this.#ownPending = new Uint8Array(PORTS_PER_DOMAIN);
  }

  /** One datagram: a port of ours, raised by domain `from`. Hostile values are dropped. */
  #frame(from: DomId, port: number): void {
    if (port >= 1 && port < PORTS_PER_DOMAIN) {
      Atomics.store(this.#ownPending, port, 0);
      this.#onEvent(from, port);
    }
  }
}
