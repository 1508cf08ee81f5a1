/**
 * Length-prefixed messages over a vchan endpoint: each frame is a u32 little-endian length then
 * that many bytes. Messages that do not fit the ring stream through it in pieces.
 *
 * Hot path: trySend() writes header + payload straight into the ring and publishes the producer
 * index at the latest when the current JS task ends (one microtask per batch), so a loop of
 * trySend() calls costs one index store and at most one event; a trySend() that finds no room
 * publishes first, so `while (!mc.trySend(m))` cannot deadlock. Messages sent while the channel
 * is delivering (replies, from onMessage / onFrame / a 'message' listener) are published as soon
 * as the frames in hand have been delivered, before the ring is read again: the peer waits for
 * them, but they cost one index store per batch, not one per reply. The receiver drains the
 * complete frames available, then publishes its consumer index once. The only allocation per
 * received message is the message itself (a view into a slab for mid-sized ones, see
 * message-slab.ts).
 *
 * Receiving: an `onMessage` callback (cheapest), 'message' events, or `for await` (buffered up to
 * receiveQueueLimit messages; beyond that the ring is left alone, so the sender feels
 * backpressure), or `onFrame` (zero-allocation). Every receive form is fair (drain-budget.ts):
 * after a bounded amount of work it yields to the event loop, however fast the peer refills.
 * A peer that goes away has everything it committed delivered first; then 'close' fires with
 * the reason, and the iterator ends (clean close) or throws ChannelClosedError (crash, domain
 * death, host loss, protocol error).
 */
import { EventEmitter } from 'eventemitter3';
import { checkInteger, invalidArgType } from './argument-errors.js';
import { ChannelClosedError, type CloseReason } from './channel-closed-error.js';
import { FRAME_COST, IN_PLACE_FRAME_COST, TURN_MS, WORK_PER_TURN } from './drain-budget.js';
import { endpointHandle, type EndpointHandle } from './endpoint-handle.js';
import { FrameBuffer } from './frame-buffer.js';
import { MessageSlab, ON_HEAP_MAX, uninitializedBytes } from './message-slab.js';
import { endClaim, invalidState, SendClaim, type ClaimOwner } from './send-claim.js';
import type { RingConsumer, RingProducer } from './ring.js';
import type { VchanEndpoint } from './vchan-endpoint.js';

export interface MessageChannelOptions {
  /** Largest message accepted from the peer (and sent); default 16 MiB. A bigger announced
   * length is a protocol error that closes the channel. */
  maxMessageSize?: number;
  /** Called for each received message, before any 'message' listener or iterator. */
  onMessage?: (message: Uint8Array) => void;
  /**
   * Zero-allocation receive, instead of onMessage / 'message' / the iterator: called for each
   * received message with `bytes.subarray(start, end)` being it. `bytes` is the channel's private
   * copy (never the shared ring), valid ONLY until the callback returns: decode in place or copy.
   * Received bytes are copied out of the ring in bulk, one copy for many messages.
   */
  onFrame?: (bytes: Uint8Array, start: number, end: number) => void;
  /** Messages buffered for the async iterator before reading pauses; default 1024. */
  receiveQueueLimit?: number;
}

export interface MessageChannelEvents {
  message: (message: Uint8Array) => void;
  close: (reason: CloseReason) => void;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
const HEADER_BYTES = 4;
/** onFrame: a lone frame shorter than this has its ring space published after its delivery
 * (see drainFrames()). */
const LONE_FRAME_MAX = 1024;
/** Deferred spins in a row started by a send (from a microtask); the next one waits for its
 * setImmediate, so the event loop turns at least this often in a sequential exchange. */
const SPIN_SOON_RUN_MAX = 64;

/**
 * A spin put off by pump() (spinLater()): 'waiting-for-send' until a send of ours (started from a
 * microtask: 'soon') or our setImmediate (every continuation has run by then) starts it.
 */
type DeferredSpin = 'none' | 'waiting-for-send' | 'soon';

/** Bytes between index publications inside a batch: a quarter ring, within [256, 16 KiB]. */
function publishInterval(ringSize: number): number {
  return Math.min(16 * 1024, Math.max(256, ringSize >>> 2));
}

/** Where the channel is in its life. */
type Lifecycle =
  /** Both ways open. */
  | 'open'
  /** The end is known (endReason): what the peer committed is still being delivered. */
  | 'ending'
  /** Everything delivered, the endpoint released (or being released), 'close' emitted. */
  | 'finished';

/** What the receive loop is doing. */
type ReceiveState =
  /** Asleep on the event channel, or paused. */
  | 'idle'
  /** Inside pump(): delivering (a send now is a reply, published at once). */
  | 'draining'
  /** Inside pump(), and woken meanwhile: drain once more before sleeping. */
  | 'draining-again'
  /** The work budget ran out: nothing drains until the scheduled setImmediate (fair draining). */
  | 'yielding';

interface PendingSend {
  message: Uint8Array;
  /** Payload bytes already in the ring; -1 while the header is not written. */
  offset: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A receiver that also sends (an RPC caller, whose next calls go out from the continuations of
 * the answers it receives) lets promise continuations run after this many deliveries when more
 * frames wait: pump() stops and carries on from a microtask queued behind them. Otherwise the
 * continuations, and so the messages the peer waits for, would all wait for the whole batch.
 * 256 pipelined RPC calls between two processes: 1.50-2.47 M against 1.10-1.34 M calls/s without
 * the stops, 3 rounds alternated (bench/ANALYSIS.md, "RPC: answers delivered 32 at a time"). A
 * receiver that never sends (a stream consumer) never stops this way.
 */
const DELIVERIES_PER_HOP = 32;

export class MessageChannel extends EventEmitter<MessageChannelEvents> implements AsyncIterable<Uint8Array>, AsyncDisposable {
  readonly maxMessageSize: number;
  private readonly endpoint: VchanEndpoint;
  private readonly handle: EndpointHandle;
  private readonly consumer: RingConsumer;
  private readonly producer: RingProducer;
  private readonly onMessage: ((message: Uint8Array) => void) | undefined;
  private readonly onFrame: ((bytes: Uint8Array, start: number, end: number) => void) | undefined;
  private readonly frames: FrameBuffer | undefined;
  private readonly queueLimit: number;

  private lifecycle = 'open' as Lifecycle;
  private endReason: CloseReason | undefined;
  private receiving = 'idle' as ReceiveState;
  /** A microtask that publishes what this task's sends wrote is queued (one per task, however
   * often a long burst publishes on the way). */
  private flushQueued = false;
  /** The user's pause(): what the peer sends stays in the ring. */
  private pausedByUser = false;
  /** Receive work left before the next yield (drain-budget.ts). */
  private workLeft = WORK_PER_TURN;
  /** A spin put off until we have sent what the peer is to answer (see spinLater()). */
  private deferredSpin: DeferredSpin = 'none';
  /** The setImmediate of spinLater() is pending. */
  private spinImmediatePending = false;
  /** Deferred spins started by a send since the event loop last turned (our setImmediate ran). */
  private soonRun = 0;
  /** trySend() calls that put a message in the ring (tells pump() whether we replied). */
  private sendCount = 0;
  /** Bytes written to the ring since the last publish (0: the peer can see everything we wrote). */
  private unpublishedBytes = 0;
  private readonly sendPublishEvery: number;
  private readonly receivePublishEvery: number;
  /** Bytes the last drain saw in the ring but left there (an incomplete header, a full buffer). */
  private leftInRing = 0;
  private partial: Uint8Array | undefined;
  private partialOffset = 0;
  private readonly received: Uint8Array[] = [];
  private receivedHead = 0;
  private nextWaiter: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: Error) => void } | undefined;
  private readonly sendQueue: PendingSend[] = [];
  private readonly slab = new MessageSlab();
  private protocolDetail: string | undefined;
  private releasedPromise: Promise<void> | undefined;
  /** The claim() whose region of the ring is reserved, if any (at most one). */
  private openClaim: SendClaim | undefined;
  /** Deliveries since hopDue() last ran (it runs every DELIVERIES_PER_HOP). */
  private deliveredSinceHop = 0;
  /** sendCount when pump() last stopped to let continuations run. */
  private sendsAtHop = 0;
  /** The receive path stopped for continuations (see DELIVERIES_PER_HOP); pump() carries on from a microtask. */
  private hopRequested = false;
  /** When the setImmediate of the last yield (or the constructor) refilled the budget. */
  private turnStartedAt = performance.now();
  private readonly claimOwner: ClaimOwner;

  constructor(endpoint: VchanEndpoint, options: MessageChannelOptions = {}) {
    super();
    const handle = endpointHandle(endpoint);
    const channel = this;
    this.claimOwner = {
      commitClaim: (claim, length) => this.commitClaim(claim, length),
      releaseClaim: (claim) => {
        if (this.openClaim === claim) this.openClaim = undefined;
      },
      get closeReason() {
        return channel.endReason;
      },
    };
    if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
    const max = checkInteger('options.maxMessageSize', options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, 0, 0xffff_ffff);
    const limit = checkInteger('options.receiveQueueLimit', options.receiveQueueLimit ?? 1024, 1, 2 ** 31 - 1);
    if (options.onMessage !== undefined && typeof options.onMessage !== 'function') throw invalidArgType('options.onMessage', 'of type function', options.onMessage);
    if (options.onFrame !== undefined && typeof options.onFrame !== 'function') throw invalidArgType('options.onFrame', 'of type function', options.onFrame);
    if (options.onFrame !== undefined && options.onMessage !== undefined) throw invalidArgType('options', 'an object with onMessage or onFrame, not both', options);
    this.maxMessageSize = max;
    this.endpoint = endpoint;
    this.handle = handle;
    this.consumer = handle.consumer;
    this.producer = handle.producer;
    this.onMessage = options.onMessage;
    this.onFrame = options.onFrame;
    this.frames = this.onFrame === undefined ? undefined : new FrameBuffer(Math.max(endpoint.readRingSize, 4096));
    this.queueLimit = limit;
    this.sendPublishEvery = publishInterval(endpoint.writeRingSize);
    this.receivePublishEvery = publishInterval(endpoint.readRingSize);
    const reason = endpoint.closeReason;
    if (reason !== undefined) {
      // Built over an endpoint that has already ended (its peer may have crashed before we
      // came): every operation reports that end from now on; what is left in the ring is still
      // delivered, from a microtask, once the user had a chance to attach a receiver.
      this.endReason = reason;
      this.lifecycle = 'ending';
      queueMicrotask(this.onWake);
      return;
    }
    endpoint.on('wake', this.onWake);
    endpoint.on('close', this.onEndpointClose);
    queueMicrotask(this.onWake);
  }

  /** Read through a call: pump() and the callbacks it runs change it under TypeScript's narrowing. */
  private isFinished(): boolean {
    return this.lifecycle === 'finished';
  }

  /** Why the channel closed, once it has. */
  get closeReason(): CloseReason | undefined {
    return this.endReason;
  }

  /**
   * Queue a message without waiting: true if it is in the ring (visible to the peer by the end
   * of this task, or at flush(); when sent during delivery, once the frames in hand are
   * delivered), false if there is no room now (or earlier sends are still queued). Throws
   * ChannelClosedError after the end, ERR_INVALID_ARG_TYPE for anything but a Uint8Array,
   * RangeError for an oversized message.
   */
  trySend(message: Uint8Array): boolean {
    if (!(message instanceof Uint8Array)) throw invalidArgType('message', 'an instance of Uint8Array', message);
    if (this.endReason !== undefined) throw new ChannelClosedError(this.endReason);
    if (this.openClaim !== undefined) throw claimIsOpen();
    if (this.sendQueue.length > 0) return false;
    if (message.length > this.maxMessageSize) throw tooBig(message.length, this.maxMessageSize);
    const producer = this.producer;
    if (!producer.hasSpace(HEADER_BYTES + message.length)) {
      this.flush();
      return false;
    }
    producer.putFrame(message);
    this.framePut(HEADER_BYTES + message.length);
    return true;
  }

  /** A frame is in the ring (trySend() or a committed claim): publish it per the policy. */
  private framePut(frameBytes: number): void {
    this.sendCount++;
    this.unpublishedBytes += frameBytes;
    if (this.deferredSpin === 'waiting-for-send' && this.soonRun < SPIN_SOON_RUN_MAX) {
      // What the peer is to answer is on its way (published by the flush queued below, or by
      // pump() before it spins): spin for the answer as soon as this continuation is done.
      this.deferredSpin = 'soon';
      queueMicrotask(this.spinSoon);
    }
    if (this.unpublishedBytes >= this.sendPublishEvery) {
      // A long run of trySend() publishes every quarter ring or so, so the reader works in
      // parallel instead of waiting for the whole ring (one index store each time).
      this.flushNow();
    } else if (this.receiving !== 'idle' && this.receiving !== 'yielding') {
      // A reply written during delivery: published when the frames in hand are delivered
      // (drainOnce(), drainFrames()), with the replies to the others. An index store per reply
      // pulled the shared index line away from the spinning peer once per reply: 256 pipelined
      // RPC calls between two processes, ~1.25x the calls/s with one store per batch (higher in
      // 18-19 of 20 windows interleaved with the old way; bench/ANALYSIS.md, "Replies published
      // per batch").
    } else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.scheduledFlush);
    }
  }

  /**
   * Zero-copy send: reserve room for a `length`-byte message in the ring and return a SendClaim
   * whose `views` are that room (one view, two when it wraps); write the message there, then
   * `commit()` (publishes, as trySend() does) or `abandon()`. Returns null when there is no room
   * now or earlier send()s are still queued (nothing reserved; see claimAsync()). `length` must
   * fit the ring whole: at most min(maxMessageSize, writeRingSize - 4); bigger messages go
   * through send(). Throws ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE for a bad length,
   * ChannelClosedError after the end, ERR_INVALID_STATE while another claim is open.
   */
  claim(length: number): SendClaim | null {
    checkInteger('length', length, 0, this.maxClaimLength());
    if (this.endReason !== undefined) throw new ChannelClosedError(this.endReason);
    if (this.openClaim !== undefined) throw claimIsOpen();
    if (this.sendQueue.length > 0) return null;
    const producer = this.producer;
    if (!producer.hasSpace(HEADER_BYTES + length)) {
      this.flush();
      return null;
    }
    const claim = new SendClaim(this.claimOwner, length, producer.claimViews(length));
    this.openClaim = claim;
    return claim;
  }

  /**
   * claim(), waiting for room (after the send()s queued before it). Rejects with
   * ChannelClosedError if the channel ends first; argument errors throw at once. Only one
   * claimAsync() may wait at a time, and no claim may be open meanwhile (ERR_INVALID_STATE).
   */
  claimAsync(length: number): Promise<SendClaim> {
    checkInteger('length', length, 0, this.maxClaimLength());
    let first: SendClaim | null;
    try {
      first = this.claim(length);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (first !== null) return Promise.resolve(first);
    if (this.claimWaiting) return Promise.reject(invalidState('another claimAsync() is already waiting'));
    this.claimWaiting = true;
    return this.waitAndClaim(length).finally(() => {
      this.claimWaiting = false;
    });
  }

  private claimWaiting = false;

  private async waitAndClaim(length: number): Promise<SendClaim> {
    for (;;) {
      if (this.sendQueue.length > 0) {
        // Messages queued before us go first: wait until the last of them is in the ring.
        const last = this.sendQueue[this.sendQueue.length - 1] as PendingSend;
        await new Promise<void>((resolve) => {
          const { resolve: done, reject } = last;
          last.resolve = () => {
            done();
            resolve();
          };
          last.reject = (err) => {
            reject(err);
            resolve();
          };
        });
      } else {
        this.flush();
        await this.endpoint.waitWritable(HEADER_BYTES + length);
      }
      const claim = this.claim(length);
      if (claim !== null) return claim;
    }
  }

  private maxClaimLength(): number {
    return Math.min(this.maxMessageSize, this.producer.size - HEADER_BYTES);
  }

  private commitClaim(claim: SendClaim, length: number): void {
    if (this.openClaim !== claim) throw invalidState('this claim is not the channel\'s open claim');
    this.openClaim = undefined;
    if (this.endReason !== undefined) {
      endClaim(claim);
      throw new ChannelClosedError(this.endReason);
    }
    this.producer.commitFrame(length);
    this.framePut(HEADER_BYTES + length);
  }

  /** Send a message of any size up to maxMessageSize, waiting for room; resolves once it is all
   * in the ring. Messages are sent in call order. A message that is not a Uint8Array throws
   * ERR_INVALID_ARG_TYPE at once; everything else is reported through the promise. */
  send(message: Uint8Array): Promise<void> {
    if (!(message instanceof Uint8Array)) throw invalidArgType('message', 'an instance of Uint8Array', message);
    try {
      if (this.trySend(message)) return RESOLVED;
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      this.sendQueue.push({ message, offset: -1, resolve, reject });
      if (this.sendQueue.length === 1) void this.pumpSends();
    });
  }

  /** Publish what trySend() wrote (and wake the peer if it asked). */
  flush(): void {
    if (this.unpublishedBytes > 0 && this.endReason === undefined) this.flushNow();
  }

  private flushNow(): void {
    this.unpublishedBytes = 0;
    this.producer.publish();
  }

  private readonly scheduledFlush = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  /** Runs while sendQueue is not empty (started by the send() that made it non-empty). */
  private async pumpSends(): Promise<void> {
    const ep = this.endpoint;
    const producer = this.producer;
    const ringSize = producer.size;
    const publishEvery = Math.max(HEADER_BYTES, ringSize >>> 2);
    try {
      while (this.sendQueue.length > 0) {
        const item = this.sendQueue[0] as PendingSend;
        if (this.endReason !== undefined) throw new ChannelClosedError(this.endReason);
        const len = item.message.length;
        const remaining = (item.offset < 0 ? HEADER_BYTES : 0) + len - Math.max(0, item.offset);
        // A message that fits the ring goes in whole (the receiver then takes it in one piece);
        // a bigger one streams, refilling whenever half the ring is free.
        const wanted = HEADER_BYTES + len <= ringSize ? remaining : Math.min(remaining, Math.max(HEADER_BYTES, ringSize >>> 1));
        let space = producer.space();
        if (space < wanted) {
          this.flush();
          await ep.waitWritable(wanted);
          continue;
        }
        if (item.offset < 0) {
          producer.putU32(len);
          space -= HEADER_BYTES;
          item.offset = 0;
          this.unpublishedBytes += HEADER_BYTES;
        }
        // Publish every quarter ring, so that a reader already awake drains the front of a big
        // message while we are still copying its tail in.
        let n = Math.min(space, len - item.offset);
        while (n > 0) {
          const piece = Math.min(n, publishEvery);
          producer.copyIn(item.message, item.offset, piece);
          item.offset += piece;
          n -= piece;
          this.flushNow();
        }
        if (item.offset === len) {
          // An empty message is its header alone, which no piece above published.
          this.flush();
          this.sendQueue.shift();
          item.resolve();
        }
      }
    } catch (err) {
      const failure = err instanceof Error ? err : new Error(String(err));
      for (const item of this.sendQueue.splice(0)) item.reject(failure);
    }
  }

  private readonly onWake = (): void => {
    this.pump();
  };

  private readonly onEndpointClose = (reason: CloseReason): void => {
    if (this.endReason === undefined) {
      this.endReason = reason;
      this.lifecycle = 'ending';
    }
    for (const item of this.sendQueue.splice(0)) item.reject(new ChannelClosedError(reason));
    this.pump();
  };

  /**
   * Drain the ring within the work budget, then arm the notification and sleep; or, with the
   * budget spent, yield to the event loop and carry on from a setImmediate. Re-entrant calls
   * coalesce; calls while yielding wait for the yield.
   */
  private pump(): void {
    const state = this.receiving;
    if (state === 'draining' || state === 'draining-again') {
      this.receiving = 'draining-again';
      return;
    }
    if (state === 'yielding' || this.isFinished()) return;
    this.receiving = 'draining';
    const handle = this.handle;
    const sendsBefore = this.sendCount;
    let delivered = false;
    try {
      for (;;) {
        if (this.workLeft <= 0 && !this.turnGoesOn()) return this.yieldTurn();
        this.receiving = 'draining';
        const progressed = this.drainOnce();
        if (this.hopRequested) {
          this.hopRequested = false;
          queueMicrotask(this.afterHop);
          return;
        }
        const after = this.receiving as ReceiveState;
        if (this.isFinished()) return;
        if (this.endReason !== undefined) {
          // Everything committed is delivered before the end, so a paused channel waits.
          if (!progressed) return this.pausedByUser ? undefined : this.finish();
          continue;
        }
        if (this.paused()) return;
        if (progressed || after === 'draining-again') {
          delivered ||= progressed;
          continue;
        }
        // Publish replies trySend() wrote during delivery before waiting: the peer cannot answer
        // what it cannot see.
        this.flush();
        if (handle.spinEnabled) {
          // A receiver that wrote nothing back during delivery (an RPC caller whose next call
          // runs in a promise continuation, a stream consumer) would spin before it sends what
          // the peer is to answer: wait until a continuation has sent, then spin (spinLater).
          if (delivered && this.sendCount === sendsBefore) return this.spinLater();
          if (handle.spin(this.readable)) continue;
        }
        handle.armReadable();
        if (this.readable()) continue;
        return;
      }
    } finally {
      if ((this.receiving as ReceiveState) !== 'yielding') this.receiving = 'idle';
      // Replies trySend() wrote during delivery, whichever way pump() ended (paused, yielding...).
      this.flush();
    }
  }

  /** Runs after the continuations of the frames delivered before the hop (they were queued
   * first): publish what they sent, then deliver the next frames. */
  private readonly afterHop = (): void => {
    this.flush();
    this.pump();
  };

  /** The budget is spent: another one if this turn began less than TURN_MS ago (drain-budget.ts). */
  private turnGoesOn(): boolean {
    if (performance.now() - this.turnStartedAt >= TURN_MS) return false;
    this.workLeft = WORK_PER_TURN;
    return true;
  }

  /** The work budget is spent: let timers, I/O and other channels run, then carry on. */
  private yieldTurn(): void {
    this.receiving = 'yielding';
    setImmediate(this.afterYield);
  }

  private readonly afterYield = (): void => {
    this.workLeft = WORK_PER_TURN;
    this.turnStartedAt = performance.now();
    this.receiving = 'idle';
    this.pump();
  };

  /** True if the peer committed more than the last drain left in the ring (an incomplete header
   * stays there: only new bytes are worth another round). */
  private readonly readable = (): boolean => !this.handle.released && this.consumer.available() > this.leftInRing;

  /**
   * Pump again (spinning allowed) once we have sent what the peer is to answer: from a microtask
   * right after the send (framePut()), or from a setImmediate if nothing was sent by then (every
   * continuation has run). At most SPIN_SOON_RUN_MAX spins in a row start from a send; then the
   * setImmediate's turn comes, so a sequential exchange still lets timers and I/O run. Spinning
   * only from setImmediate cost RPC a turn of the event loop per call: p50 5.76 -> 3.30 us in
   * alternated benches (bench/ANALYSIS.md, "RPC round trip: the event-loop turn before the
   * caller spins"). A receiver that never sends (a stream) pays nothing for it.
   */
  private spinLater(): void {
    if (this.deferredSpin !== 'none') return;
    this.deferredSpin = 'waiting-for-send';
    if (this.spinImmediatePending) return;
    this.spinImmediatePending = true;
    setImmediate(this.scheduledSpin);
  }

  private readonly spinSoon = (): void => {
    if (this.deferredSpin !== 'soon') return;
    this.deferredSpin = 'none';
    this.soonRun++;
    this.pump();
  };

  private readonly scheduledSpin = (): void => {
    this.spinImmediatePending = false;
    this.soonRun = 0;
    // Started by a send meanwhile (and that pump made its own arrangements): nothing to do.
    if (this.deferredSpin !== 'waiting-for-send') return;
    this.deferredSpin = 'none';
    this.pump();
  };

  private paused(): boolean {
    if (this.pausedByUser) return true;
    return (
      this.onMessage === undefined &&
      this.onFrame === undefined &&
      this.listenerCount('message') === 0 &&
      this.received.length - this.receivedHead >= this.queueLimit
    );
  }

  /**
   * Stop delivering messages (any receive form); what the peer sends stays in the ring, so once
   * it is full the peer's sends wait: backpressure for callback and event receivers. Messages
   * already queued for the iterator are still handed out.
   */
  pause(): void {
    this.pausedByUser = true;
  }

  /** Deliver again (from a microtask, never re-entrantly). */
  resume(): void {
    if (!this.pausedByUser) return;
    this.pausedByUser = false;
    queueMicrotask(this.onWake);
  }

  get isPaused(): boolean {
    return this.pausedByUser;
  }

  /** Take the complete frames available (one load of prod), within the work budget; returns
   * whether anything moved. */
  private drainOnce(): boolean {
    if (this.frames !== undefined) return this.drainFrames(this.frames);
    if (this.handle.released) return false;
    const consumer = this.consumer;
    let avail = consumer.available();
    this.leftInRing = avail;
    if (avail === 0) return false;
    let moved = false;
    let consumedSincePublish = 0;
    while (avail > 0 && this.workLeft > 0) {
      let message: Uint8Array;
      if (this.partial === undefined) {
        if (avail < HEADER_BYTES) break;
        if (this.pausedByUser || (this.endReason === undefined && this.paused())) break;
        const len = consumer.takeU32();
        avail -= HEADER_BYTES;
        moved = true;
        if (len > this.maxMessageSize) {
          consumer.publish();
          this.protocolError(`the peer announced a ${len}-byte message; maxMessageSize is ${this.maxMessageSize}`);
          return false;
        }
        if (len > avail) {
          // Not zeroed: it is delivered only once every byte came from the ring.
          this.partial = uninitializedBytes(len);
          this.partialOffset = 0;
          this.workLeft -= FRAME_COST;
          continue;
        }
        // An empty message has nothing to copy or to own: one shared instance, no allocation
        // (a flood of empty frames then costs no garbage).
        if (len === 0) message = EMPTY;
        else if (len <= ON_HEAP_MAX) message = consumer.takeCopy(len);
        else {
          message = this.slab.allocate(len);
          consumer.copyOut(message, 0, len);
        }
        avail -= len;
        consumedSincePublish += HEADER_BYTES + len;
        this.workLeft -= FRAME_COST + len;
      } else {
        const n = Math.min(avail, this.partial.length - this.partialOffset);
        consumer.copyOut(this.partial, this.partialOffset, n);
        this.partialOffset += n;
        avail -= n;
        moved = true;
        this.workLeft -= n;
        if (this.partialOffset < this.partial.length) break;
        message = this.partial;
        this.partial = undefined;
      }
      this.deliver(message);
      // The callback may have closed the channel (and released the ring under us). Either
      // ends the endpoint first, so one field load covers the common case.
      if (this.endReason !== undefined && (this.isFinished() || this.handle.released)) return true;
      if (++this.deliveredSinceHop >= DELIVERIES_PER_HOP && this.hopDue(avail >= HEADER_BYTES)) break;
      // Free space for a waiting writer every quarter ring or so, not only after the batch.
      if (consumedSincePublish >= this.receivePublishEvery) {
        consumer.publish();
        consumedSincePublish = 0;
      }
    }
    this.leftInRing = avail;
    // The replies to the frames just delivered (see framePut()), then their space.
    this.flush();
    if (moved) consumer.publish();
    return moved;
  }

  /** onFrame mode: copy what the ring holds into private memory, then deliver its whole frames
   * (within the work budget; the rest waits in the buffer, and is delivered before the ring is
   * read again: see FrameBuffer.holdsWholeFrame). */
  private drainFrames(frames: FrameBuffer): boolean {
    if (this.isFinished()) return false;
    let copied = 0;
    if (!this.pausedByUser && !this.handle.released && !frames.holdsWholeFrame()) {
      const consumer = this.consumer;
      const avail = consumer.available();
      copied = avail > 0 ? frames.fill(consumer, frames.wanted(avail)) : 0;
      this.leftInRing = avail - copied;
    }
    if (copied === 0) {
      const moved = this.deliverFrames(frames);
      this.flush();
      return moved;
    }
    // The copy frees the ring. A lone small frame (a ping, an RPC call) is published after it is
    // delivered: the reply's producer index and our consumer index are then stored back to back,
    // one pull of the shared index line from the spinning peer instead of two (bench/ANALYSIS.md,
    // "Publish order"). Anything else before, so a waiting writer refills while we deliver.
    const len = frames.nextLength();
    const lone = len >= 0 && HEADER_BYTES + len === frames.buffered && len < LONE_FRAME_MAX;
    if (!lone) this.consumer.publish();
    try {
      this.deliverFrames(frames);
      return true;
    } finally {
      // The replies to the frames just delivered (see framePut()), then a lone frame's space.
      this.flush();
      if (lone && !this.handle.released) this.consumer.publish();
    }
  }

  /** Hand out the whole frames in the buffer, within the work budget. */
  private deliverFrames(frames: FrameBuffer): boolean {
    let moved = false;
    const onFrame = this.onFrame as (bytes: Uint8Array, start: number, end: number) => void;
    while (!this.pausedByUser && this.workLeft > 0) {
      const len = frames.nextLength();
      if (len < 0) break;
      if (len > this.maxMessageSize) {
        this.protocolError(`the peer announced a ${len}-byte message; maxMessageSize is ${this.maxMessageSize}`);
        return false;
      }
      const start = frames.start + HEADER_BYTES;
      const end = start + len;
      if (end > frames.end) {
        frames.reserve(HEADER_BYTES + len);
        break;
      }
      // Consumed before the callback: it may pause, close, or re-enter through resume().
      frames.start = end;
      moved = true;
      this.workLeft -= IN_PLACE_FRAME_COST + len;
      try {
        onFrame(frames.bytes, start, end);
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
      if (this.isFinished()) return true;
      if (++this.deliveredSinceHop >= DELIVERIES_PER_HOP && this.hopDue(frames.holdsWholeFrame())) break;
    }
    return moved;
  }

  /**
   * DELIVERIES_PER_HOP deliveries since the last call: asks pump() to let continuations run
   * (true) if more frames wait and we sent something since the last such stop.
   */
  private hopDue(moreWaiting: boolean): boolean {
    this.deliveredSinceHop = 0;
    if (!moreWaiting || this.sendCount === this.sendsAtHop) return false;
    this.sendsAtHop = this.sendCount;
    this.hopRequested = true;
    return true;
  }

  private deliver(message: Uint8Array): void {
    try {
      if (this.onMessage !== undefined) this.onMessage(message);
      else if (this.listenerCount('message') > 0) this.emit('message', message);
      else if (this.nextWaiter !== undefined) {
        const w = this.nextWaiter;
        this.nextWaiter = undefined;
        w.resolve({ value: message, done: false });
      } else this.received.push(message);
    } catch (err) {
      // A throwing callback must not corrupt our read state; report it like an event listener would.
      process.nextTick(() => {
        throw err;
      });
    }
  }

  private protocolError(detail: string): void {
    this.endReason = 'protocol-error';
    this.partial = undefined;
    this.protocolDetail = detail;
    this.finish();
  }

  /** Everything committed has been delivered: release and announce the end. */
  private finish(): void {
    if (this.isFinished()) return;
    this.lifecycle = 'finished';
    if (this.openClaim !== undefined) {
      endClaim(this.openClaim);
      this.openClaim = undefined;
    }
    const reason = this.endReason ?? 'closed';
    this.endpoint.off('wake', this.onWake);
    this.endpoint.off('close', this.onEndpointClose);
    this.releasedPromise = this.endpoint.close().catch(() => undefined);
    const w = this.nextWaiter;
    this.nextWaiter = undefined;
    if (w !== undefined && this.receivedHead >= this.received.length) {
      const err = this.endError();
      if (err === undefined) w.resolve({ value: undefined, done: true });
      else w.reject(err);
    }
    this.emit('close', reason);
  }

  /** The iterator's verdict at the end: none for a clean end, an error for a violent one. */
  private endError(): ChannelClosedError | undefined {
    const reason = this.endReason ?? 'closed';
    return reason === 'closed' || reason === 'peer-closed' ? undefined : new ChannelClosedError(reason, this.protocolDetail);
  }

  /** Close the channel (and its endpoint). Pending sends fail with ChannelClosedError('closed'). */
  close(): Promise<void> {
    // What trySend() put in the ring is committed: publish it before the goodbye (flush() does
    // nothing once the channel has ended).
    this.flush();
    if (this.endReason === undefined) this.endReason = 'closed';
    if (this.lifecycle === 'open') this.lifecycle = 'ending';
    for (const item of this.sendQueue.splice(0)) item.reject(new ChannelClosedError('closed'));
    const released = this.endpoint.close();
    this.finish();
    return released;
  }

  /** `await using channel = new MessageChannel(...)`: close() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Resolves when the channel closed and its resources are released, with the reason. */
  closed(): Promise<CloseReason> {
    const settled = (): Promise<CloseReason> => (this.releasedPromise ?? Promise.resolve()).then(() => this.endReason ?? 'closed');
    if (this.isFinished()) return settled();
    return new Promise((resolve) => this.once('close', () => resolve(settled())));
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: (): Promise<IteratorResult<Uint8Array>> => {
        if (this.receivedHead < this.received.length) {
          const value = this.received[this.receivedHead] as Uint8Array;
          this.received[this.receivedHead++] = EMPTY;
          const queued = this.received.length - this.receivedHead;
          if (queued === 0) {
            this.received.length = 0;
            this.receivedHead = 0;
          }
          // Half the queue is free again (or all of it): refill from a microtask, in one batch
          // rather than one pump per message. pump() stopped only when the queue was full, so
          // the queue passes this mark before the consumer could starve; and pump() yields once
          // the work budget is spent, so a consumer loop cannot keep it draining forever.
          if (queued === this.queueLimit >>> 1 && !this.isFinished()) queueMicrotask(this.onWake);
          return Promise.resolve({ value, done: false });
        }
        if (this.isFinished()) {
          const err = this.endError();
          return err === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(err);
        }
        return new Promise((resolve, reject) => {
          this.nextWaiter = { resolve, reject };
          this.pump();
        });
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }
}

function claimIsOpen(): Error {
  return invalidState('a claim is open on this channel: commit() or abandon() it first');
}

function tooBig(length: number, max: number): RangeError {
  const err = new RangeError(`message of ${length} bytes exceeds maxMessageSize ${max}`) as RangeError & { code: string };
  err.code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** Received empty messages, and the iterator queue's cleared slots. Frozen: nothing to change. */
const EMPTY = Object.freeze(new Uint8Array(0)) as Uint8Array;
