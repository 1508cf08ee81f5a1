/**
 * Direct event delivery between domain processes: the hot path of the simulation.
 *
 * Each domain process listens on an abstract Unix socket. A sender connects once per peer domain
 * (first 4 bytes: its domid) and then writes one u32 (the receiver's port) per event. Like Xen's
 * shared_info pending bits, every domain has a pending page (one byte per port, a host memfd that
 * peers map): notify() does Atomics.exchange(byte, 1) and writes to the socket only if the byte
 * was 0; the receiver clears the byte BEFORE emitting 'event'. So n notifies before delivery give
 * one socket write and one event, and no wake-up is lost: a notify either finds the byte clear
 * (and sends a frame) or set (and a frame is already on its way, to be followed by an emit).
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { DomId, EvtchnPort } from '../backend/xen-backend.js';
import type { MemoryMapping } from '../native/index.js';
import { PORTS_PER_DOMAIN } from './host-event-channels.js';
import type { PeerEndpoint, SharedFile } from './host-protocol.js';
import { mapSharedFile } from './shared-file-mapping.js';
import { eventSocketName } from './sim-dir.js';

/** What a channel needs to send an event to its peer without the host. */
export interface PeerRoute {
  readonly pending: Uint8Array;
  readonly socket: Socket;
}

interface PeerDomain {
  mapping: MemoryMapping;
  route: PeerRoute;
}

export class EventLinks {
  readonly socketName: string;
  readonly #server: Server;
  readonly #incoming = new Set<Socket>();
  readonly #peers = new Map<DomId, PeerDomain>();
  readonly #onEvent: (from: DomId, port: EvtchnPort) => void;
  #ownMapping: MemoryMapping | undefined;
  #ownPending: Uint8Array = new Uint8Array(PORTS_PER_DOMAIN);
  #domid = 0;

  constructor(dir: string, onEvent: (from: DomId, port: EvtchnPort) => void) {
    this.socketName = eventSocketName(dir, process.pid, randomBytes(6).toString('hex'));
    this.#onEvent = onEvent;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.socketName, () => {
        this.#server.removeListener('error', reject);
        resolve();
      });
    });
  }

  attach(domid: DomId, pendingPage: SharedFile): void {
    this.#domid = domid;
    this.#ownMapping = mapSharedFile(pendingPage, PORTS_PER_DOMAIN, true);
    this.#ownPending = new Uint8Array(this.#ownMapping.buffer);
  }

  /** The route to a peer domain, connecting and mapping its pending page on first use. */
  routeTo(endpoint: PeerEndpoint): PeerRoute {
    const known = this.#peers.get(endpoint.domid);
    if (known !== undefined && !known.route.socket.destroyed) return known.route;
    if (known !== undefined) this.forget(endpoint.domid);
    const mapping = mapSharedFile(endpoint.pendingPage, PORTS_PER_DOMAIN, true);
    const socket = connect(endpoint.eventSocket);
    socket.setNoDelay?.(true);
    socket.on('error', () => undefined); // a dead peer: the host tells us through 'disconnected'
    const hello = Buffer.allocUnsafe(4);
    hello.writeUInt32LE(this.#domid, 0);
    socket.write(hello);
    const route: PeerRoute = { pending: new Uint8Array(mapping.buffer), socket };
    this.#peers.set(endpoint.domid, { mapping, route });
    return route;
  }

  /** The peer domain is gone: drop its link and pending page. */
  forget(domid: DomId): void {
    const peer = this.#peers.get(domid);
    if (peer === undefined) return;
    this.#peers.delete(domid);
    peer.route.socket.destroy();
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
    for (const socket of this.#incoming) socket.destroy();
    this.#server.close();
    this.#ownMapping?.unmap();
    this.#ownMapping = undefined;
    this.#ownPending = new Uint8Array(PORTS_PER_DOMAIN);
  }

  #accept(socket: Socket): void {
    this.#incoming.add(socket);
    let from: DomId | undefined;
    // Frames are 4 bytes; a chunk may split one, so keep up to 3 bytes across chunks.
    const carry = Buffer.alloc(4);
    let carried = 0;
    socket.on('data', (chunk: Buffer) => {
      let offset = 0;
      if (carried > 0) {
        const take = Math.min(4 - carried, chunk.length);
        chunk.copy(carry, carried, 0, take);
        carried += take;
        offset = take;
        if (carried < 4) return;
        carried = 0;
        from = this.#frame(from, carry.readUInt32LE(0));
      }
      for (; offset + 4 <= chunk.length; offset += 4) from = this.#frame(from, chunk.readUInt32LE(offset));
      if (offset < chunk.length) {
        carried = chunk.copy(carry, 0, offset);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.#incoming.delete(socket));
  }

  /** First frame names the sender; then each frame is a port of ours. Hostile values are dropped. */
  #frame(from: DomId | undefined, value: number): DomId {
    if (from === undefined) return value;
    if (value >= 1 && value < PORTS_PER_DOMAIN) {
      Atomics.store(this.#ownPending, value, 0);
      this.#onEvent(from, value);
    }
    return from;
  }
}
