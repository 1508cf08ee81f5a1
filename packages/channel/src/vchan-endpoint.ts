/**
 * A connected vchan end (server or client): the non-blocking byte-stream API, adaptive waiting,
 * liveness tracking and teardown. Written once over XenBackend, so it behaves the same on the
 * loopback host, the simulated host and real Xen.
 *
 * Waiting: check the ring; optionally spin (re-checking) for `spinMicros`; then arm the
 * notification (request bit + re-check, as libxenvchan) and sleep on the event channel. An idle
 * channel has no timer and uses no CPU.
 *
 * Ending: 'close' is emitted once, with the reason, as soon as the end is known: our close(),
 * the peer's clean close or crash (its live byte went to 0, told apart by the goodbye flags, see
 * control-page.ts), or the peer's domain dying. Data the peer committed before it went stays
 * readable: read() keeps returning it, and the resources are released when the ring is empty
 * (or on close()). Writes after the end throw ChannelClosedError. The backend losing its host (the
 * event-channel device failing, the xenstore connection closing: the simulated host died) ends
 * the channel as 'host-gone'.
 *
 * The raw ring sides and the spin machinery are not public: MessageChannel and VchanStream get
 * them through the endpoint's handle (endpoint-handle.ts).
 */
import { EventEmitter } from 'eventemitter3';
import {
  loadCpuYield,
  type DomainPresence,
  type DomId,
  type EventChannel,
  type EvtchnPort,
  type ForeignMapping,
  type GrantedPages,
  type XenBackend,
} from '@xenipc/core';
import { ChannelClosedError, type CloseReason } from './channel-closed-error.js';
import {
  CLI_LIVE,
  CLI_NOTIFY,
  FLAG_SAID_GOODBYE,
  FLAG_SPEAKS_GOODBYE,
  LIVE_CONNECTED,
  LIVE_GONE,
  SRV_LIVE,
  SRV_NOTIFY,
  type ControlViews,
} from './control-page.js';
import { AdaptiveSpin } from './adaptive-spin.js';
import { onDomainReleased, peerHomeState } from './domain-death-watch.js';
import { registerEndpointHandle, type EndpointHandle } from './endpoint-handle.js';
import { tidyPeerDirectory, withdrawRendezvous } from './rendezvous.js';
import type { Notifier } from './notifier.js';
import type { RingConsumer, RingProducer } from './ring.js';

export type VchanRole = 'server' | 'client';

export interface VchanEndpointEvents {
  /** The peer is connected (a server sees its client arrive; a client emits it at once). */
  connect: () => void;
  /** The channel ended; emitted once. Data already in the read ring may still be read. */
  close: (reason: CloseReason) => void;
  /** The peer signalled (data written, space freed, or a state change). Spurious ones happen. */
  wake: () => void;
}

/** Options shared by servers and clients. */
export interface VchanWaitOptions {
  /**
   * Longest a wait re-checks the ring before arming the notification and sleeping, in
   * microseconds (blocks the event loop meanwhile); adaptive below that (see spin()). The first
   * wait after a send of ours woke the peer from its sleep may spin up to WAKE_SPIN_FACTOR (5)
   * times as long: the answer is then at least a wake-up away. 0 sleeps at once. Default: the
   * backend's `defaultSpinMicros` if it has one (0 on the loopback host: the peer is in this
   * thread, so spinning cannot help), else DEFAULT_SPIN_MICROS (20).
   */
  spinMicros?: number;
}

/** Everything an endpoint owns; released by close(). */
export interface EndpointParts {
  role: VchanRole;
  backend: XenBackend;
  peer: DomId;
  evtchn: EventChannel;
  control: GrantedPages | ForeignMapping;
  ringPages: Array<GrantedPages | ForeignMapping>;
  views: ControlViews;
  consumer: RingConsumer;
  producer: RingProducer;
  notifier: Notifier;
  spinMicros: number | undefined;
  /** Server: the xenstore directory to remove on close. */
  xenstorePath: string | undefined;
  /** Server on the conventional path: the per-peer directory to remove with it when empty. */
  xenstorePeerDirectory: string | undefined;
}

interface ReadWaiter {
  min: number;
  resolve: () => void;
}
interface WriteWaiter {
  min: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();
/** Default spin budget on a real or simulated host (microseconds). */
export const DEFAULT_SPIN_MICROS = 20;
/**
 * A spin that has run this long calls sched_yield() between its checks (AdaptiveSpin's yieldCpu),
 * as the C ring baseline does after 20 us. On the simulated host both domains are processes of
 * one 2-vCPU machine, and a spin kept a peer that shared its CPU from producing what it waited
 * for: such spins failed, the budgets fell to nothing, and the two sides took turns asleep, a
 * wake-up per ring's worth. With it, in alternated whole benches, RPC p50 was lower in 7 of 8
 * rounds (medians 2.9 against 3.3 us) and stream cells did not change clearly; the stream
 * probe slept a tenth as often (bench/ANALYSIS.md, "Spins that give the CPU away"). On a real
 * host with the peer on its own vCPU the call returns at once.
 */
const YIELD_AFTER_MICROS = 5;
/** How much longer the first wait after we woke the peer may spin than other waits (see spin()). */
const WAKE_SPIN_FACTOR = 5;

export class VchanEndpoint extends EventEmitter<VchanEndpointEvents> {
  readonly role: VchanRole;
  readonly peer: DomId;
  readonly backend: XenBackend;
  /** Size of the ring we read from / write to, in bytes. */
  readonly readRingSize: number;
  readonly writeRingSize: number;
  protected readonly evtchn: EventChannel;
  private readonly consumer: RingConsumer;
  private readonly producer: RingProducer;
  private readonly parts: EndpointParts;
  private readonly bytes: Uint8Array;
  private readonly ownLive: number;
  private readonly peerLive: number;
  private readonly ownFlagsByte: number;
  private readonly peerFlagsByte: number;
  private readonly spinMs: number;
  /** Waits in general, and the first wait after we woke the peer (see spin()); none at spinMicros 0. */
  private readonly normalSpin: AdaptiveSpin | undefined;
  private readonly wakeSpin: AdaptiveSpin | undefined;

  private peerConnected = false;
  private endReason: CloseReason | undefined;
  private released = false;
  private releasing: Promise<void> | undefined;
  private withdrawing: Promise<void> | undefined;
  private peerDomainSeen = false;
  private readWaiters: ReadWaiter[] = [];
  private writeWaiters: WriteWaiter[] = [];
  private stopDomainWatch: (() => Promise<void>) | undefined;
  private resolveReleased: () => void = () => undefined;
  private readonly releasedPromise = new Promise<void>((resolve) => (this.resolveReleased = resolve));
  /** Resolves once the domain-death watch is in place and the peer's domain was looked at once. */
  protected domainWatchStarting: Promise<void> | undefined;

  protected constructor(parts: EndpointParts) {
    super();
    this.parts = parts;
    this.role = parts.role;
    this.peer = parts.peer;
    this.backend = parts.backend;
    this.evtchn = parts.evtchn;
    this.consumer = parts.consumer;
    this.producer = parts.producer;
    this.readRingSize = parts.consumer.size;
    this.writeRingSize = parts.producer.size;
    this.bytes = parts.views.bytes;
    const server = parts.role === 'server';
    this.ownLive = server ? SRV_LIVE : CLI_LIVE;
    this.peerLive = server ? CLI_LIVE : SRV_LIVE;
    this.ownFlagsByte = server ? SRV_NOTIFY : CLI_NOTIFY;
    this.peerFlagsByte = server ? CLI_NOTIFY : SRV_NOTIFY;
    const spin = parts.spinMicros ?? parts.backend.defaultSpinMicros ?? DEFAULT_SPIN_MICROS;
    this.spinMs = spin / 1000;
    // Past YIELD_AFTER_MICROS a spin gives the CPU away between checks (sched_yield).
    const yielding = spin > 0 ? { yieldCpu: loadCpuYield(), yieldAfterMs: YIELD_AFTER_MICROS / 1000 } : {};
    this.normalSpin = spin > 0 ? new AdaptiveSpin({ fullMs: this.spinMs, reprobeEvery: 16, halveOnFailure: true, ...yielding }) : undefined;
    // A wake spin that fails means the woken peer did not get a CPU in time (a busy machine,
    // where spinning only delays it): none until a probe, at once after a single failure and
    // ever more rarely after more (backoff). Probing only every 128th such wait left a request/
    // response exchange asleep, a wake-up per hop, for thousands of calls after one failure
    // (bench/ANALYSIS.md, "The wake spin after a failure").
    this.wakeSpin = spin > 0 ? new AdaptiveSpin({ fullMs: this.spinMs * WAKE_SPIN_FACTOR, reprobeEvery: 128, halveOnFailure: false, backoff: true, ...yielding }) : undefined;
    this.evtchn.on('event', this.onEvent);
    this.evtchn.on('error', this.onHostLost);
    parts.backend.xenstore.on('close', this.onHostLost);
    const self = this;
    const handle: EndpointHandle = {
      consumer: parts.consumer,
      producer: parts.producer,
      get released() {
        return self.ringsGone;
      },
      spinEnabled: this.spinMs > 0,
      spin: (ready) => this.spin(ready),
      armReadable: () => this.armReadable(),
    };
    registerEndpointHandle(this, handle);
    this.domainWatchStarting = onDomainReleased(parts.backend.xenstore, this.onDomainReleased).then(
      async (stop) => {
        if (this.released) return void stop();
        this.stopDomainWatch = stop;
        // Look once now that we listen: a server waiting for its client learns whether the
        // client's home exists, so that its later disappearance counts as death.
        if (this.endReason === undefined) await this.checkPeerDomain();
      },
      () => undefined,
    );
  }

  /** Our local event-channel port. */
  get localPort(): EvtchnPort {
    return this.evtchn.localPort;
  }

  /** True while the peer is connected and neither side has ended the channel. */
  get isOpen(): boolean {
    return this.endReason === undefined && this.peerConnected;
  }

  /**
   * True once the shared pages may not be touched: we released them, or they were torn away
   * under us (the backend was closed, or its process "died" on the loopback host; a detached
   * buffer has length 0). Every ring access is behind this check.
   */
  private get ringsGone(): boolean {
    return this.released || this.bytes.length === 0;
  }

  /** Why the channel ended, once it has. */
  get closeReason(): CloseReason | undefined {
    return this.endReason;
  }

  /** True once the channel ended and nothing is left to read. */
  get eof(): boolean {
    return this.endReason !== undefined && (this.ringsGone || this.consumer.available() === 0);
  }

  /** Bytes readable now without waiting. */
  get dataReady(): number {
    return this.ringsGone ? 0 : this.consumer.available();
  }

  /** Bytes writable now without waiting (0 once ended). */
  get bufferSpace(): number {
    return this.endReason !== undefined || this.ringsGone ? 0 : this.producer.space();
  }

  /** Non-blocking: copy up to into.length available bytes; 0 if none (see `eof`). */
  read(into: Uint8Array): number {
    if (this.ringsGone) return 0;
    const n = Math.min(this.consumer.available(), into.length);
    if (n === 0) {
      if (this.endReason !== undefined) this.releaseSoon();
      return 0;
    }
    this.consumer.copyOut(into, 0, n);
    this.consumer.publish();
    return n;
  }

  /** Non-blocking: copy as much of data as fits; returns the count (maybe 0). Throws after the end. */
  write(data: Uint8Array): number {
    this.assertWritable();
    const n = Math.min(this.producer.space(), data.length);
    if (n === 0) return 0;
    this.producer.copyIn(data, 0, n);
    this.producer.publish();
    return n;
  }

  /** Throws ChannelClosedError if writing is no longer possible. */
  assertWritable(): void {
    if (this.endReason !== undefined) throw new ChannelClosedError(this.endReason);
  }

  /** Resolves when at least min(minBytes, ring size) bytes are readable, or the channel ended. */
  waitReadable(minBytes = 1): Promise<void> {
    const min = Math.max(1, Math.min(minBytes, this.readRingSize));
    if (this.readReady(min)) return RESOLVED;
    if (this.spinMs > 0 && this.spin(() => this.readReady(min))) return RESOLVED;
    this.consumer.armNotify();
    if (this.readReady(min)) return RESOLVED;
    return new Promise((resolve) => this.readWaiters.push({ min, resolve }));
  }

  /** Resolves when at least min(minBytes, ring size) bytes can be written; rejects once ended. */
  waitWritable(minBytes = 1): Promise<void> {
    if (this.endReason !== undefined) return Promise.reject(new ChannelClosedError(this.endReason));
    const min = Math.max(1, Math.min(minBytes, this.writeRingSize));
    if (this.producer.space() >= min) return RESOLVED;
    if (this.spinMs > 0 && this.spin(() => this.endReason !== undefined || this.producer.space() >= min)) {
      return this.endReason === undefined ? RESOLVED : Promise.reject(new ChannelClosedError(this.endReason));
    }
    this.producer.armNotify();
    if (this.producer.space() >= min) return RESOLVED;
    return new Promise((resolve, reject) => this.writeWaiters.push({ min, resolve, reject }));
  }

  /** Ask for an event when the peer writes (callers re-check the ring afterwards). */
  private armReadable(): void {
    if (!this.ringsGone) this.consumer.armNotify();
  }

  /**
   * Spin re-checking `ready` (AdaptiveSpin: up to spinMicros, less while spinning does not pay).
   * The first wait after a publish of ours woke the peer spins up to WAKE_SPIN_FACTOR times as
   * long: the peer was asleep, so its answer is at least one wake-up away, which is longer than a
   * plain spin on this machine (bench/ANALYSIS.md, "Spinning through the peer's wake-up").
   * Without that, a request/response exchange whose sides both went to sleep stays asleep: each
   * side gives up before the other is awake, and every hop costs a wake-up.
   */
  private spin(ready: () => boolean): boolean {
    if (this.normalSpin === undefined || this.wakeSpin === undefined) return false;
    if (!this.parts.notifier.takeWokePeer()) return this.normalSpin.run(ready);
    if (!this.wakeSpin.run(ready)) return false;
    this.normalSpin.refill();
    return true;
  }

  private readReady(min: number): boolean {
    return this.ringsGone || this.endReason !== undefined || this.consumer.available() >= min;
  }

  /** Resolves once the channel has ended and everything it held is released (after close(),
   * or after the peer went and the read ring was drained), with the reason. */
  async closed(): Promise<CloseReason> {
    await this.releasedPromise;
    return this.endReason ?? 'closed';
  }

  /**
   * End the channel and release everything (grants, mappings, port, xenstore entry). Tells the
   * peer it was on purpose. Idempotent; resolves when all is released.
   */
  close(): Promise<void> {
    this.end('closed');
    return this.release();
  }

  /** `await using endpoint = ...`: close() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private readonly onEvent = (): void => {
    if (this.ringsGone) return;
    this.checkPeer();
    this.serviceWaiters();
    this.emit('wake');
  };

  /**
   * The backend lost its host: the event channel failed (no event can reach us any more) or the
   * xenstore connection closed. The peer may well be alive; what is gone is our way to it.
   */
  private readonly onHostLost = (): void => {
    if (this.released) return;
    this.end('host-gone');
  };

  private readonly onDomainReleased = (): void => {
    if (this.released || this.endReason !== undefined) return;
    void this.checkPeerDomain();
  };

  /** After @releaseDomain (or a domU's poll): is our peer's domain the one that went? */
  private async checkPeerDomain(): Promise<void> {
    let gone: boolean;
    try {
      const status = await this.evtchn.status();
      if (status === 'interdomain') return;
      // A server still waiting for its client: its port is unbound anyway, and the client's
      // domain may not even exist yet.
      const waiting = this.role === 'server' && !this.peerConnected;
      // A connected port that fell back to unbound/closed means the other end is gone. Linux's
      // evtchn device cannot tell ('unknown'): there, ask whether the peer's domain still exists.
      gone = status !== 'unknown' && !waiting ? true : await this.peerDomainVanished(waiting);
    } catch {
      return;
    }
    if (!gone || this.released || this.endReason !== undefined) return;
    // A crash's unmap-notify may be in flight too; it names the cause more precisely.
    this.checkPeer();
    this.end('domain-gone');
  }

  /**
   * Is the peer's domain gone? First xenstore (the toolstack removes a dead domain's home; only
   * ENOENT proves it, a domU reading another domain's home gets EACCES either way), then Xen
   * itself, which any domain may ask; see domain-death-watch.ts.
   */
  private async peerDomainVanished(waiting: boolean): Promise<boolean> {
    let presence = await peerHomeState(this.backend.xenstore, this.peer);
    if (presence === 'unknown') presence = await this.askXenAboutPeer();
    if (presence === 'present') this.peerDomainSeen = true;
    // A server may listen before its client's domain exists: only a domain that was there and
    // vanished means death.
    return presence === 'absent' && (this.peerDomainSeen || !waiting);
  }

  /**
   * A client maps its server's pages, which keeps a destroyed server domain known to Xen
   * (probeDomain: 'present') until we unmap them; a grant copy from those pages fails at once
   * (probeOwner). A server maps nothing of its client: it probes the domain.
   */
  private askXenAboutPeer(): Promise<DomainPresence> {
    const control = this.parts.control;
    return 'probeOwner' in control ? control.probeOwner() : this.backend.probeDomain(this.peer);
  }

  /** Read the peer's live byte (and goodbye flags) and act on a change. */
  protected checkPeer(): void {
    if (this.ringsGone || this.endReason !== undefined) return;
    const live = Atomics.load(this.bytes, this.peerLive);
    if (live === LIVE_CONNECTED && !this.peerConnected) {
      this.markPeerConnected();
      return;
    }
    if (live !== LIVE_GONE) return;
    const flags = Atomics.load(this.bytes, this.peerFlagsByte);
    // A client can connect, write and leave before we look: live went 2 -> 1 -> 0 unseen. It did
    // connect if it set its flags (only a connecting client does; listen clears them) or left
    // data in our read ring; connect first, so what it wrote is delivered before the end.
    if (!this.peerConnected && this.role === 'server' && ((flags & FLAG_SPEAKS_GOODBYE) !== 0 || this.consumer.available() > 0)) {
      this.markPeerConnected();
    }
    const crashed = (flags & FLAG_SPEAKS_GOODBYE) !== 0 && (flags & FLAG_SAID_GOODBYE) === 0;
    this.end(crashed ? 'peer-crashed' : 'peer-closed');
  }

  private markPeerConnected(): void {
    this.peerConnected = true;
    // One client per channel (as Qubes): once it is here, no other client may find the page.
    void this.withdrawRendezvous().catch(() => undefined);
    this.emit('connect');
  }

  /** Record the end once: fail writers, wake readers, emit 'close'; release if nothing to read. */
  protected end(reason: CloseReason): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    const writers = this.writeWaiters;
    this.writeWaiters = [];
    for (const w of writers) w.reject(new ChannelClosedError(reason));
    const readers = this.readWaiters;
    this.readWaiters = [];
    for (const r of readers) r.resolve();
    if (reason !== 'closed' && (this.ringsGone || this.consumer.available() === 0)) this.releaseSoon();
    this.emit('close', reason);
    this.emit('wake');
  }

  private serviceWaiters(): void {
    if (this.readWaiters.length > 0) {
      const avail = this.consumer.available();
      const still: ReadWaiter[] = [];
      for (const w of this.readWaiters) if (avail >= w.min) w.resolve();
      else still.push(w);
      this.readWaiters = still;
      if (still.length > 0) {
        this.consumer.armNotify();
        if (this.consumer.available() !== avail) queueMicrotask(() => this.serviceWaiters());
      }
    }
    if (this.writeWaiters.length > 0) {
      const space = this.producer.space();
      const still: WriteWaiter[] = [];
      for (const w of this.writeWaiters) if (space >= w.min) w.resolve();
      else still.push(w);
      this.writeWaiters = still;
      if (still.length > 0) {
        this.producer.armNotify();
        if (this.producer.space() !== space) queueMicrotask(() => this.serviceWaiters());
      }
    }
  }

  private releaseSoon(): void {
    void this.release().catch(() => undefined);
  }

  /**
   * Server: remove the xenstore entry, once (at the first client's arrival, or at release).
   * Never later than release: a new server may publish at the same path afterwards.
   */
  private withdrawRendezvous(): Promise<void> {
    const path = this.parts.xenstorePath;
    if (path === undefined) return RESOLVED;
    // Gone already (our domain's home was removed, or someone tidied up) is fine.
    this.withdrawing ??= withdrawRendezvous(this.backend.xenstore, path);
    return this.withdrawing;
  }

  /** Let go of everything, once. */
  protected release(): Promise<void> {
    if (this.releasing !== undefined) return this.releasing;
    this.releasing = this.doRelease().finally(this.resolveReleased);
    return this.releasing;
  }

  private async doRelease(): Promise<void> {
    const parts = this.parts;
    const peerStillThere = this.endReason === 'closed';
    if (peerStillThere && this.bytes.length !== 0) {
      // Say goodbye before going: flag, live=0, event (libxenvchan's close, plus our flag).
      Atomics.or(this.bytes, this.ownFlagsByte, FLAG_SAID_GOODBYE);
      Atomics.store(this.bytes, this.ownLive, LIVE_GONE);
      parts.notifier.kick();
    }
    this.released = true;
    this.evtchn.off('event', this.onEvent);
    this.evtchn.off('error', this.onHostLost);
    this.backend.xenstore.off('close', this.onHostLost);
    const errors: unknown[] = [];
    const attempt = (fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const pages of parts.ringPages) attempt(() => pages.close());
    // Unmapping the control page fires our unmap-notify (clears our live byte, sends an event),
    // so the port must still be bound here.
    attempt(() => parts.control.close());
    attempt(() => this.evtchn.close());
    await this.domainWatchStarting;
    if (this.stopDomainWatch !== undefined) await this.stopDomainWatch();
    await this.withdrawRendezvous().catch((err: unknown) => errors.push(err));
    // At release, not at withdrawal: nothing of ours is in flight on xenstore while the channel is in use.
    const peerDirectory = parts.xenstorePeerDirectory;
    if (peerDirectory !== undefined && this.endReason !== 'host-gone') await tidyPeerDirectory(this.backend.xenstore, peerDirectory);
    if (errors.length > 0) throw errors[0];
  }
}
