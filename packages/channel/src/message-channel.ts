/**
 * Length-prefixed messages over a vchan endpoint: each frame is a u32 little-endian length then
 * that many bytes. Messages that do not fit the ring stream through it in pieces.
 *
 * Hot path: trySend() writes header + payload straight into the ring and publishes the producer
 * index at the latest when the current JS task ends (one microtask per batch), so a loop of
 * trySend() calls costs one index store and at most one event; a trySend() that finds no room
 * publishes first, so `while (!mc.trySend(m))` cannot deadlock. The receiver drains every
 * complete frame available, then publishes its consumer index once. The only allocation per
 * received message is the message itself (a view into a slab for mid-sized ones, see
 * message-slab.ts).
 *
 * Receiving: an `onMessage` callback (cheapest), 'message' events, or `for await` (buffered up to
 * receiveQueueLimit messages; beyond that the ring is left alone, so the sender feels
 * backpressure). A peer that goes away has everything it committed delivered first; then
 * 'close' fires with the reason, and the iterator ends (clean close) or throws
 * ChannelClosedError (crash, domain death, protocol error).
 */
import { EventEmitter } from 'eventemitter3';
import { ChannelClosedError, type CloseReason } from './channel-closed-error.js';
import { FrameBuffer } from './frame-buffer.js';
import { MessageSlab, ON_HEAP_MAX, uninitializedBytes } from './message-slab.js';
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
/** Drain rounds per wake-up before yielding to the event loop (keeps other work running). */
const MAX_ROUNDS_PER_WAKE = 64;
const HEADER_BYTES = 4;

/** Bytes between index publications inside a batch: a quarter ring, within [256, 16 KiB]. */
function publishInterval(ringSize: number): number {
  return Math.min(16 * 1024, Math.max(256, ringSize >>> 2));
}

interface PendingSend {
  message: Uint8Array;
  /** Payload bytes already in the ring; -1 while the header is not written. */
  offset: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();

export class MessageChannel extends EventEmitter<MessageChannelEvents> implements AsyncIterable<Uint8Array> {
  readonly maxMessageSize: number;
  private readonly endpoint: VchanEndpoint;
  private readonly onMessage: ((message: Uint8Array) => void) | undefined;
  private readonly onFrame: ((bytes: Uint8Array, start: number, end: number) => void) | undefined;
  private readonly frames: FrameBuffer | undefined;
  private readonly queueLimit: number;

  private endReason: CloseReason | undefined;
  private finished = false;
  private pumping = false;
  private pumpAgain = false;
  private yieldScheduled = false;
  private spinScheduled = false;
  /** trySend() calls that put a message in the ring (tells pump() whether we replied). */
  private sendCount = 0;
  private flushScheduled = false;
  private unpublished = false;
  private unpublishedBytes = 0;
  private readonly sendPublishEvery: number;
  private readonly receivePublishEvery: number;
  private partial: Uint8Array | undefined;
  private partialOffset = 0;
  private readonly received: Uint8Array[] = [];
  private receivedHead = 0;
  private nextWaiter: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: Error) => void } | undefined;
  private readonly sendQueue: PendingSend[] = [];
  private readonly slab = new MessageSlab();
  private sending = false;
  private protocolDetail: string | undefined;
  private pausedByUser = false;
  private releasedPromise: Promise<void> | undefined;

  constructor(endpoint: VchanEndpoint, options: MessageChannelOptions = {}) {
    super();
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(max) || max < 0 || max > 0xffff_ffff) throw new RangeError(`maxMessageSize ${String(max)} must be an integer 0..2^32-1`);
    this.maxMessageSize = max;
    this.endpoint = endpoint;
    this.onMessage = options.onMessage;
    this.onFrame = options.onFrame;
    if (this.onFrame !== undefined && this.onMessage !== undefined) throw new TypeError('MessageChannel takes onMessage or onFrame, not both');
    this.frames = this.onFrame === undefined ? undefined : new FrameBuffer(Math.max(endpoint.readRingSize, 4096));
    this.queueLimit = Math.max(1, options.receiveQueueLimit ?? 1024);
    this.sendPublishEvery = publishInterval(endpoint.writeRingSize);
    this.receivePublishEvery = publishInterval(endpoint.readRingSize);
    endpoint.on('wake', this.onWake);
    endpoint.on('close', this.onEndpointClose);
    if (endpoint.closeReason !== undefined) queueMicrotask(() => this.onEndpointClose(endpoint.closeReason ?? 'closed'));
    else queueMicrotask(this.onWake);
  }

  /** Why the channel closed, once it has. */
  get closeReason(): CloseReason | undefined {
    return this.endReason;
  }

  /**
   * Queue a message without waiting: true if it is in the ring (visible to the peer by the end
   * of this task, or at flush()), false if there is no room now (or earlier sends are still
   * queued). Throws ChannelClosedError after the end, RangeError for an oversized message.
   */
  trySend(message: Uint8Array): boolean {
    if (this.endReason !== undefined) throw new ChannelClosedError(this.endReason);
    if (this.sendQueue.length > 0) return false;
    if (message.length > this.maxMessageSize) throw new RangeError(`message of ${message.length} bytes exceeds maxMessageSize ${this.maxMessageSize}`);
    const producer = this.endpoint.producer;
    if (!producer.hasSpace(HEADER_BYTES + message.length)) {
      this.flush();
      return false;
    }
    producer.putFrame(message);
    this.sendCount++;
    this.unpublishedBytes += HEADER_BYTES + message.length;
    // A long run of trySend() publishes every quarter ring or so, so the reader works in
    // parallel instead of waiting for the whole ring (one index store each time).
    if (this.unpublishedBytes >= this.sendPublishEvery) {
      this.unpublished = true;
      this.flush();
    } else if (!this.unpublished) {
      this.unpublished = true;
      // During delivery pump() publishes on its way out (a reply costs no microtask).
      if (!this.flushScheduled && !this.pumping) {
        this.flushScheduled = true;
        queueMicrotask(this.scheduledFlush);
      }
    }
    return true;
  }

  /** Send a message of any size up to maxMessageSize, waiting for room; resolves once it is all
   * in the ring. Messages are sent in call order. */
  send(message: Uint8Array): Promise<void> {
    try {
      if (this.trySend(message)) return RESOLVED;
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      this.sendQueue.push({ message, offset: -1, resolve, reject });
      if (!this.sending) void this.pumpSends();
    });
  }

  /** Publish what trySend() wrote (and wake the peer if it asked). */
  flush(): void {
    if (!this.unpublished || this.endReason !== undefined) return;
    this.unpublished = false;
    this.unpublishedBytes = 0;
    this.endpoint.producer.publish();
  }

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private async pumpSends(): Promise<void> {
    this.sending = true;
    const ep = this.endpoint;
    const producer = ep.producer;
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
        }
        // Publish every quarter ring, so that a reader already awake drains the front of a big
        // message while we are still copying its tail in.
        let n = Math.min(space, len - item.offset);
        while (n > 0) {
          const piece = Math.min(n, publishEvery);
          producer.copyIn(item.message, item.offset, piece);
          item.offset += piece;
          n -= piece;
          this.unpublished = true;
          this.flush();
        }
        if (item.offset === len) {
          this.sendQueue.shift();
          item.resolve();
        }
      }
    } catch (err) {
      const failure = err instanceof Error ? err : new Error(String(err));
      for (const item of this.sendQueue.splice(0)) item.reject(failure);
    } finally {
      this.sending = false;
    }
  }

  private readonly onWake = (): void => {
    this.pump();
  };

  private readonly onEndpointClose = (reason: CloseReason): void => {
    if (this.endReason === undefined) this.endReason = reason;
    for (const item of this.sendQueue.splice(0)) item.reject(new ChannelClosedError(reason));
    this.pump();
  };

  /** Drain the ring (bounded), then arm the notification and sleep. Re-entrant calls coalesce. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    if (this.finished) return;
    this.pumping = true;
    const ep = this.endpoint;
    const sendsBefore = this.sendCount;
    let delivered = false;
    try {
      let rounds = 0;
      for (; rounds < MAX_ROUNDS_PER_WAKE; rounds++) {
        this.pumpAgain = false;
        const progressed = this.drainOnce();
        if (this.finished) return;
        if (this.endReason !== undefined) {
          // Everything committed is delivered before the end, so a paused channel waits.
          if (!progressed) return this.pausedByUser ? undefined : this.finish();
          continue;
        }
        if (this.paused()) return;
        if (progressed || this.pumpAgain) {
          delivered ||= progressed;
          continue;
        }
        // Publish replies trySend() wrote during delivery before waiting: the peer cannot answer
        // what it cannot see.
        this.flush();
        if (ep.spinEnabled) {
          // A receiver that wrote nothing back during delivery (an RPC caller whose next call
          // runs in a promise continuation, a stream consumer) would spin before it sends what
          // the peer is to answer: wait until the continuations have run (setImmediate comes
          // after every microtask and nextTick), then spin.
          if (delivered && this.sendCount === sendsBefore) return this.spinLater();
          if (ep.spin(this.readable)) continue;
        }
        if (ep.armReadable()) continue;
        return;
      }
      if (!this.yieldScheduled) {
        // Still busy: let timers and I/O run, then carry on (the ring stays bounded meanwhile).
        this.yieldScheduled = true;
        setImmediate(() => {
          this.yieldScheduled = false;
          this.pump();
        });
      }
    } finally {
      this.pumping = false;
      // Replies trySend() wrote during delivery, whichever way pump() ended (paused, yielding...).
      this.flush();
    }
  }

  private readonly readable = (): boolean => this.endpoint.consumer.available() > 0;

  /** Pump again (spinning allowed) once this task's continuations have run. */
  private spinLater(): void {
    if (this.spinScheduled) return;
    this.spinScheduled = true;
    setImmediate(this.scheduledSpin);
  }

  private readonly scheduledSpin = (): void => {
    this.spinScheduled = false;
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

  /** Take every complete frame available (one load of prod); returns whether anything moved. */
  private drainOnce(): boolean {
    if (this.frames !== undefined) return this.drainFrames(this.frames);
    const ep = this.endpoint;
    if (this.finished || ep.eof) return false;
    const consumer = ep.consumer;
    let avail = consumer.available();
    if (avail === 0) return false;
    let moved = false;
    let consumedSincePublish = 0;
    while (avail > 0) {
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
          continue;
        }
        if (len <= ON_HEAP_MAX) message = consumer.takeCopy(len);
        else {
          message = this.slab.allocate(len);
          consumer.copyOut(message, 0, len);
        }
        avail -= len;
        consumedSincePublish += HEADER_BYTES + len;
      } else {
        const n = Math.min(avail, this.partial.length - this.partialOffset);
        consumer.copyOut(this.partial, this.partialOffset, n);
        this.partialOffset += n;
        avail -= n;
        moved = true;
        if (this.partialOffset < this.partial.length) break;
        message = this.partial;
        this.partial = undefined;
      }
      this.deliver(message);
      // The callback may have closed the channel (and released the ring under us).
      if (this.finished || ep.eof) return true;
      // Free space for a waiting writer every quarter ring or so, not only after the batch.
      if (consumedSincePublish >= this.receivePublishEvery) {
        consumer.publish();
        consumedSincePublish = 0;
      }
    }
    if (moved) consumer.publish();
    return moved;
  }

  /** onFrame mode: copy what the ring holds into private memory, then deliver its whole frames. */
  private drainFrames(frames: FrameBuffer): boolean {
    const ep = this.endpoint;
    if (this.finished) return false;
    let moved = false;
    if (!this.pausedByUser && !ep.eof) {
      const consumer = ep.consumer;
      const avail = consumer.available();
      if (avail > 0 && frames.fill(consumer, frames.wanted(avail)) > 0) {
        consumer.publish();
        moved = true;
      }
    }
    const onFrame = this.onFrame as (bytes: Uint8Array, start: number, end: number) => void;
    while (!this.pausedByUser) {
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
      try {
        onFrame(frames.bytes, start, end);
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
      if (this.finished) return true;
    }
    return moved;
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
    if (this.finished) return;
    this.finished = true;
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
    for (const item of this.sendQueue.splice(0)) item.reject(new ChannelClosedError('closed'));
    const released = this.endpoint.close();
    this.finish();
    return released;
  }

  /** Resolves when the channel closed and its resources are released, with the reason. */
  closed(): Promise<CloseReason> {
    const settled = (): Promise<CloseReason> => (this.releasedPromise ?? Promise.resolve()).then(() => this.endReason ?? 'closed');
    if (this.finished) return settled();
    return new Promise((resolve) => this.once('close', () => resolve(settled())));
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: (): Promise<IteratorResult<Uint8Array>> => {
        if (this.receivedHead < this.received.length) {
          const value = this.received[this.receivedHead] as Uint8Array;
          this.received[this.receivedHead++] = EMPTY;
          if (this.receivedHead === this.received.length) {
            this.received.length = 0;
            this.receivedHead = 0;
          }
          if (!this.finished && !this.pumping) queueMicrotask(this.onWake);
          return Promise.resolve({ value, done: false });
        }
        if (this.finished) {
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

const EMPTY = new Uint8Array(0);
