/**
 * RpcTransport over any Node Duplex carrying bytes (net.Socket over TCP or a Unix socket, a pipe
 * pair, a TLS socket). Messages are concatenated MessagePack values, as msgpack-rpc specifies.
 *
 * Writes queued within one tick go out as a single write. Incoming bytes are split by StreamFramer;
 * a stream that stops being MessagePack, or a message above maxMessageBytes, ends the connection
 * with reason 'protocol-error' (see stream-framer.ts for the drop policy).
 */
import type { Duplex } from 'node:stream';
import { checkSize, invalidArgType } from '../errors/argument-errors.js';
import { DEFAULT_MAX_MESSAGE_VALUES } from '../wire/message-scanner.js';
import { StreamFramer } from './stream-framer.js';
import type { RpcCloseReason, RpcTransport, RpcTransportSink } from './rpc-transport.js';

export interface StreamTransportOptions {
  /** Largest message accepted, in bytes (default 16 MiB). */
  maxMessageBytes?: number;
  /**
   * Most values in one message (default DEFAULT_MAX_MESSAGE_VALUES, 2^20; an extension value
   * counts 4): a message with more is dropped as 'oversized' before it is decoded.
   */
  maxMessageValues?: number;
  /** Outgoing bytes buffered in the stream above which send() returns false (default 1 MiB). */
  highWaterMark?: number;
  /**
   * Outgoing bytes that may wait to be written before the connection is dropped with reason
   * 'peer-not-reading' (default 64 MiB). Reading is never paused because of our own unsent
   * output (two peers flooding each other would deadlock); this bound keeps a peer that sends
   * requests but never reads the responses from growing our memory.
   */
  maxBufferedBytes?: number;
  /** After close(), destroy the stream if it has not finished closing within this many ms (default 1000). */
  closeGraceMs?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export class StreamTransport implements RpcTransport {
  readonly maxMessageBytes: number;
  private readonly maxMessageValues: number;
  private readonly highWaterMark: number;
  private readonly maxBufferedBytes: number;
  private readonly closeGraceMs: number;
  private sink: RpcTransportSink | undefined;
  private framer: StreamFramer | undefined;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private ended = false;
  private waitingForDrain = false;
  private readonly flushBound = (): void => this.flush();

  constructor(private readonly stream: Duplex, options: StreamTransportOptions = {}) {
    if (typeof stream !== 'object' || stream === null || typeof stream.on !== 'function' || typeof stream.write !== 'function') {
      throw invalidArgType('stream', 'a Duplex stream', stream);
    }
    if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
    this.maxMessageBytes = checkSize('options.maxMessageBytes', options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, 1);
    this.maxMessageValues = checkSize('options.maxMessageValues', options.maxMessageValues ?? DEFAULT_MAX_MESSAGE_VALUES, 1);
    this.highWaterMark = checkSize('options.highWaterMark', options.highWaterMark ?? 1024 * 1024, 0);
    this.maxBufferedBytes = checkSize('options.maxBufferedBytes', options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, 0);
    this.closeGraceMs = checkSize('options.closeGraceMs', options.closeGraceMs ?? 1000, 0);
  }

  attach(sink: RpcTransportSink): void {
    if (this.sink) throw new Error('StreamTransport is already attached');
    this.sink = sink;
    this.framer = new StreamFramer(this.maxMessageBytes, sink, (detail) => {
      this.end('protocol-error', new Error(`MessagePack framing lost: ${detail}`));
    }, this.maxMessageValues);
    const stream = this.stream;
    stream.on('data', (chunk: Buffer) => this.framer!.push(chunk));
    stream.on('end', () => this.end('peer-closed'));
    stream.on('error', (error: Error) => this.end('transport-error', error));
    stream.on('close', () => this.end('peer-closed'));
    stream.on('drain', () => {
      if (this.waitingForDrain) {
        this.waitingForDrain = false;
        this.sink?.drain();
      }
    });
    if (stream.destroyed) queueMicrotask(() => this.end('peer-closed'));
  }

  send(message: Uint8Array): boolean {
    if (this.ended) return false;
    this.batch.push(message);
    this.batchBytes += message.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushBound);
    }
    const buffered = this.stream.writableLength + this.batchBytes;
    if (buffered > this.maxBufferedBytes) {
      this.end('peer-not-reading', new Error(`${buffered} bytes wait to be written (maxBufferedBytes ${this.maxBufferedBytes})`));
      return false;
    }
    const congested = buffered > this.highWaterMark;
    if (congested) this.waitingForDrain = true;
    return !congested;
  }

  pause(): void {
    this.framer?.pause();
    this.stream.pause();
  }

  resume(): void {
    this.framer?.resume();
    // delivering the held messages may have filled the peer's queue and paused us again
    if (!this.ended && !this.framer?.isPaused) this.stream.resume();
  }

  close(): void {
    if (this.ended) return;
    this.flush();
    this.end('closed');
    this.stream.end();
    const timer = setTimeout(() => this.stream.destroy(), this.closeGraceMs);
    timer.unref();
    this.stream.once('close', () => clearTimeout(timer));
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    if (batch.length === 0 || this.ended) return;
    const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    const belowMark = this.stream.write(data);
    if (!belowMark) this.waitingForDrain = true;
  }

  private end(reason: RpcCloseReason, cause?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.batch = [];
    this.batchBytes = 0;
    if (reason !== 'closed' && reason !== 'peer-closed') this.stream.destroy();
    this.sink?.closed(reason, cause);
  }
}
