/**
 * What RpcPeer needs from a connection: ordered delivery of whole MessagePack messages both ways.
 * Implementations: StreamTransport (any Node Duplex, concatenated messages), ChannelTransport
 * (@xenipc/channel, one message per frame), MemoryTransport (in-process pair for tests).
 *
 * Every implementation hands the sink only byte ranges that hold exactly one standard MessagePack
 * value within the size limit (checked by MessageScanner); anything else is reported through
 * `sink.malformed` (message dropped) or ends the connection with reason 'protocol-error'.
 */

/** Why a connection ended. */
export type RpcCloseReason =
  | 'closed' // this side called close()
  | 'peer-closed' // the other side closed cleanly (stream end, channel closed)
  | 'peer-crashed' // the channel reported the peer process died without closing
  | 'domain-gone' // the channel reported the peer's whole domain went away
  | 'transport-error' // the stream/channel failed (e.g. ECONNRESET)
  | 'peer-not-reading' // more than maxBufferedBytes waited to be written: the peer stopped reading
  | 'protocol-error'; // the bytes stopped being MessagePack: framing is lost

/** Kinds of bad input a transport or the peer reports without closing the connection. */
export type MalformedKind =
  | 'oversized' // a message larger than maxMessageBytes (channel frame) or holding more than maxMessageValues values; only that message is dropped
  | 'not-msgpack' // a frame that is not exactly one MessagePack value (channel/memory transports)
  | 'private-extension' // msgpackr-private ext 0x42 (BigInt) / 0x62 (bundled strings) / 0x72 (records); no standard peer sends them
  | 'decode' // the decoder rejected the value (e.g. an unknown extension type)
  | 'shape'; // valid MessagePack but not a msgpack-rpc message

export interface RpcTransportSink {
  /**
   * One message: `buf[start, end)` holds exactly one MessagePack value. Valid only during the call.
   * `hasExtension`: whether the value holds any extension (ext) value, as MessageScanner found;
   * false lets the peer take its fastest decoder; omitted (a transport that does not scan) means
   * "maybe".
   */
  message(buf: Uint8Array, start: number, end: number, hasExtension?: boolean): void;
  /** A bad message was dropped; the connection continues. */
  malformed(kind: MalformedKind, detail: string): void;
  /** The transport can take more after `send` returned false. */
  drain(): void;
  /** The connection ended (called once). */
  closed(reason: RpcCloseReason, cause?: Error): void;
}

export interface RpcTransport {
  /** Largest message accepted in either direction, in bytes. */
  readonly maxMessageBytes: number;
  /** Start delivering to `sink`; called once by the peer. */
  attach(sink: RpcTransportSink): void;
  /**
   * Queue one encoded message. The transport may batch messages queued within one tick. Returns
   * false when its outgoing buffer is above its high-water mark (the message is still queued).
   * The bytes must stay unchanged until sent (msgpackr's pack() output does).
   */
  send(message: Uint8Array): boolean;
  /** Stop / restart delivering incoming messages (backpressure toward the peer). */
  pause(): void;
  resume(): void;
  /** End the connection; the sink sees closed('closed') unless it had already ended. */
  close(): void;
}
