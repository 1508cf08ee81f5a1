/**
 * RpcTransport over an @xenipc/channel MessageChannel: one msgpack-rpc message per channel frame.
 *
 * Two ways to build it:
 * - `new ChannelTransport(endpoint)` (fastest): the transport opens the MessageChannel itself with
 *   the channel's `onFrame` receive, and decodes each frame in place in the channel's private
 *   receive buffer: no allocation and no copy per received message. `transport.channel` is that
 *   channel.
 * - `new ChannelTransport(channel)`: over a MessageChannel you made, through its 'message'
 *   events (one Uint8Array per message). Create the transport in the same tick as the channel: a
 *   channel with no listener buffers what it receives for its async iterator, where this
 *   transport would not see it.
 *
 * Sending uses trySend() (straight into the ring, published once per tick). When the ring is
 * full, messages wait here in order; only the first of them is handed to the channel's send()
 * (which waits for room), and when it is in, the rest go on with trySend(). Keeping the
 * channel's own queue at one entry keeps a burst of many thousand calls linear.
 * send() returns false while more than highWaterMessages wait.
 *
 * Pausing uses MessageChannel.pause()/resume(): while paused, what the peer sends stays in the
 * ring, so once the ring is full the peer's sends wait (backpressure all the way to the caller).
 *
 * Replies written while the channel is delivering (a synchronous handler's response) are
 * published by the channel itself once the calls in hand are answered, one index store for the
 * batch (MessageChannel owns that rule). Receiving is fair: the channel yields to the event loop
 * after a bounded amount of work, so a flooding peer cannot starve this process.
 *
 * Ending: the channel's close reason becomes the connection's ('peer-crashed' when the peer
 * process died, 'domain-gone' when its domain did, 'peer-closed', 'protocol-error'); the
 * channel's 'host-gone' (our backend lost its host) is a 'transport-error' whose cause is the
 * ChannelClosedError. The channel delivers everything the peer committed before 'close', so
 * responses sent before a crash resolve.
 */
import { ChannelClosedError, MessageChannel, type CloseReason as ChannelCloseReason, type VchanEndpoint } from '@xenipc/channel';
import { FrameDelivery } from './frame-delivery.js';
import { DEFAULT_MAX_BUFFERED_BYTES } from './stream-transport.js';
import type { RpcCloseReason, RpcTransport, RpcTransportSink } from './rpc-transport.js';

export interface ChannelTransportOptions {
  /** Largest message accepted or sent (default and maximum: the channel's maxMessageSize). */
  maxMessageBytes?: number;
  /** Messages waiting for ring space above which send() returns false (default 4096). */
  highWaterMessages?: number;
  /**
   * Bytes that may wait for ring space before the connection is dropped with reason
   * 'peer-not-reading' (default 64 MiB); see StreamTransportOptions.maxBufferedBytes.
   */
  maxBufferedBytes?: number;
}

export class ChannelTransport implements RpcTransport {
  readonly maxMessageBytes: number;
  /** The channel carrying the messages (opened here when the transport was given an endpoint). */
  readonly channel: MessageChannel;
  /** Receiving through the channel's onFrame (true when the transport opened the channel). */
  private readonly inPlace: boolean;
  private readonly highWaterMessages: number;
  private readonly maxBufferedBytes: number;
  private outboxBytes = 0;
  private sink: RpcTransportSink | undefined;
  private delivery: FrameDelivery | undefined;
  /** Messages waiting for ring space, oldest at outboxHead. */
  private outbox: Uint8Array[] = [];
  private outboxHead = 0;
  private waitingForDrain = false;
  private ended = false;

  constructor(channelOrEndpoint: MessageChannel | VchanEndpoint, options: ChannelTransportOptions = {}) {
    if (channelOrEndpoint instanceof MessageChannel) {
      this.channel = channelOrEndpoint;
      this.inPlace = false;
    } else {
      this.channel = new MessageChannel(channelOrEndpoint, { onFrame: this.onFrame });
      this.inPlace = true;
      // frames arriving before attach() stay in the ring until there is someone to give them to
      this.channel.pause();
    }
    const channel = this.channel;
    this.maxMessageBytes = Math.min(options.maxMessageBytes ?? channel.maxMessageSize, channel.maxMessageSize);
    this.highWaterMessages = options.highWaterMessages ?? 4096;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  attach(sink: RpcTransportSink): void {
    if (this.sink) throw new Error('ChannelTransport is already attached');
    this.sink = sink;
    this.delivery = new FrameDelivery(this.maxMessageBytes, sink);
    if (this.inPlace) this.channel.resume();
    else this.channel.on('message', this.onMessage);
    this.channel.on('close', this.onClose);
    const reason = this.channel.closeReason;
    if (reason !== undefined) queueMicrotask(() => this.onClose(reason));
  }

  send(message: Uint8Array): boolean {
    if (this.ended) return false;
    if (this.outboxHead === this.outbox.length) {
      try {
        if (this.channel.trySend(message)) return true;
      } catch {
        // ChannelClosedError: the 'close' event ends the connection
        return false;
      }
      this.outbox.push(message);
      this.outboxBytes += message.length;
      this.sendHeadOfOutbox();
    } else {
      this.outbox.push(message);
      this.outboxBytes += message.length;
      if (this.outboxBytes > this.maxBufferedBytes) {
        this.channel.close().catch(() => {});
        this.end('peer-not-reading');
        return false;
      }
    }
    if (this.outbox.length - this.outboxHead >= this.highWaterMessages) {
      this.waitingForDrain = true;
      return false;
    }
    return true;
  }

  /** Hand the oldest waiting message to channel.send(), which resolves once it is in the ring. */
  private sendHeadOfOutbox(): void {
    this.channel.send(this.outbox[this.outboxHead]!).then(this.onHeadSent, this.onHeadFailed);
  }

  private readonly onHeadSent = (): void => {
    if (this.ended) return;
    const outbox = this.outbox;
    this.outboxBytes -= outbox[this.outboxHead]!.length;
    outbox[this.outboxHead++] = EMPTY;
    try {
      while (this.outboxHead < outbox.length && this.channel.trySend(outbox[this.outboxHead]!)) {
        this.outboxBytes -= outbox[this.outboxHead]!.length;
        outbox[this.outboxHead++] = EMPTY;
      }
    } catch {
      return; // closed: the 'close' event ends the connection
    }
    if (this.outboxHead < outbox.length) {
      this.sendHeadOfOutbox();
      return;
    }
    this.outbox = [];
    this.outboxHead = 0;
    this.outboxBytes = 0;
    if (this.waitingForDrain) {
      this.waitingForDrain = false;
      this.sink?.drain();
    }
  };

  private readonly onHeadFailed = (): void => {
    // the channel closed; its 'close' event ends the connection
  };

  pause(): void {
    this.channel.pause();
  }

  resume(): void {
    if (!this.ended) this.channel.resume();
  }

  close(): void {
    if (this.ended) return;
    this.channel.close().catch(() => {});
    this.end('closed');
  }

  private readonly onMessage = (message: Uint8Array): void => {
    if (!this.ended) this.delivery!.deliver(message);
  };

  private readonly onFrame = (bytes: Uint8Array, start: number, end: number): void => {
    if (!this.ended) this.delivery!.deliverInPlace(bytes, start, end);
  };

  private readonly onClose = (reason: ChannelCloseReason): void => {
    // Every other channel reason is also a connection reason, with the same meaning.
    if (reason === 'host-gone') this.end('transport-error', new ChannelClosedError(reason));
    else this.end(reason);
  };

  private end(reason: RpcCloseReason, cause?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.channel.off('message', this.onMessage);
    this.channel.off('close', this.onClose);
    this.outbox = [];
    this.outboxHead = 0;
    this.sink?.closed(reason, cause);
  }
}

const EMPTY = new Uint8Array(0);
