/**
 * Splits a byte stream of concatenated MessagePack messages into messages.
 *
 * Chunks are scanned in place; only an incomplete tail (or what is left when delivery is paused) is
 * copied into a reusable accumulation buffer, whose size is bounded by maxMessageBytes plus one chunk.
 *
 * Policy (streams have no other frame boundaries, so a broken frame cannot be skipped):
 * - byte 0xc1 where a value must start, or a message larger than maxMessageBytes: framing is
 *   considered lost, `onFramingLost` is called and nothing more is delivered;
 * - a message holding more than maxMessageValues values: reported as oversized and skipped;
 * - a message using a msgpackr-private extension (records, bundled strings, BigInt): reported and skipped;
 * - anything the decoder or the RPC layer rejects later only drops that message.
 */
import { MessageScanner, PRIVATE_EXTENSION_DETAIL, ScanResult } from '../wire/message-scanner.js';
import type { RpcTransportSink } from './rpc-transport.js';

const MIN_ACCUMULATOR_BYTES = 64 * 1024;

export class StreamFramer {
  private readonly scanner: MessageScanner;
  private acc: Uint8Array = new Uint8Array(0);
  private accStart = 0;
  private accEnd = 0;
  /** A message scan is in progress in `acc` starting at accStart. */
  private scanning = false;
  private paused = false;
  private lost = false;

  constructor(
    maxMessageBytes: number,
    private readonly sink: Pick<RpcTransportSink, 'message' | 'malformed'>,
    private readonly onFramingLost: (detail: string) => void,
    maxMessageValues?: number,
  ) {
    this.scanner = new MessageScanner(maxMessageBytes, maxMessageValues);
  }

  /** Bytes held back (incomplete message or paused delivery). */
  get bufferedBytes(): number {
    return this.accEnd - this.accStart;
  }

  push(chunk: Uint8Array): void {
    if (this.lost) return;
    if (this.accEnd === this.accStart && !this.paused) {
      // fast path: scan the chunk itself, keep only its incomplete tail
      const consumed = this.deliver(chunk, 0, chunk.length, false);
      if (consumed < chunk.length && !this.lost) this.append(chunk, consumed, chunk.length, consumed);
      return;
    }
    this.append(chunk, 0, chunk.length, 0);
    if (!this.paused) this.drainAccumulator();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.accEnd > this.accStart) this.drainAccumulator();
  }

  private drainAccumulator(): void {
    const consumed = this.deliver(this.acc, this.accStart, this.accEnd, this.scanning);
    if (this.lost) return;
    this.accStart = consumed;
    if (this.accStart === this.accEnd) {
      this.accStart = this.accEnd = 0;
      // do not keep a buffer sized for one huge message forever
      if (this.acc.length > 4 * MIN_ACCUMULATOR_BYTES) this.acc = new Uint8Array(0);
    }
  }

  /**
   * Deliver whole messages from buf[from, end). Returns the offset of the first byte not consumed
   * (start of an incomplete message, or where delivery stopped because of pause()).
   */
  private deliver(buf: Uint8Array, from: number, end: number, resume: boolean): number {
    const scanner = this.scanner;
    let start = from;
    if (!resume) scanner.begin(start);
    this.scanning = false;
    while (start < end) {
      if (this.paused) return start;
      const result = scanner.scan(buf, end);
      if (result === ScanResult.NeedMore) {
        this.scanning = true;
        return start;
      }
      if (result !== ScanResult.Complete) {
        this.lost = true;
        this.accStart = this.accEnd = 0;
        this.onFramingLost(result === ScanResult.TooLarge
          ? `message larger than ${scanner.maxMessageBytes} bytes`
          : `byte 0xc1 at a value start: not MessagePack`);
        return end;
      }
      const next = scanner.position;
      if (scanner.tooManyValues) this.sink.malformed('oversized', `message holds more than ${scanner.maxValues} values`);
      else if (scanner.usesPrivateExtension) this.sink.malformed('private-extension', PRIVATE_EXTENSION_DETAIL);
      else this.sink.message(buf, start, next, scanner.usesExtension);
      if (this.lost) return end;
      start = next;
      scanner.begin(start);
    }
    return start;
  }

  /** Copy buf[from, end) behind the accumulated bytes; `scanBase` is where a scan in progress began. */
  private append(buf: Uint8Array, from: number, end: number, scanBase: number): void {
    const length = end - from;
    const held = this.accEnd - this.accStart;
    if (this.accEnd + length > this.acc.length) {
      // move the held bytes to offset 0, growing the buffer if they and the new bytes do not fit
      const needed = held + length;
      if (needed > this.acc.length) {
        const grown = new Uint8Array(Math.max(MIN_ACCUMULATOR_BYTES, needed * 2));
        grown.set(this.acc.subarray(this.accStart, this.accEnd), 0);
        this.acc = grown;
      } else {
        this.acc.copyWithin(0, this.accStart, this.accEnd);
      }
      this.scanner.shift(-this.accStart);
      this.accEnd = held;
      this.accStart = 0;
    }
    if (held === 0) {
      // the tail of a chunk scanned in place: the scanner's offsets refer to that chunk
      this.scanner.shift(this.accEnd - scanBase);
      this.accStart = this.accEnd;
    }
    this.acc.set(buf.subarray(from, end), this.accEnd);
    this.accEnd += length;
  }
}
