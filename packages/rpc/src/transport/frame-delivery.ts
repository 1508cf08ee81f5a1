/**
 * For transports that keep message boundaries (channel, in-memory): check that a frame holds
 * exactly one acceptable MessagePack value before the peer decodes it. A bad frame only drops
 * that frame; boundaries of the next frames are unaffected.
 */
import { MessageScanner, PRIVATE_EXTENSION_DETAIL, ScanResult } from '../wire/message-scanner.js';
import type { RpcTransportSink } from './rpc-transport.js';

/** Frames up to this size are decoded from one reused buffer (see deliver()). */
const SCRATCH_BYTES = 64 * 1024;
/**
 * msgpackr decodes strings in JS only while the decode range ends before offset 140 of the
 * buffer (its test for "a small message"); past it, it calls its native string extractor once
 * per message. An in-place frame deep in the channel's receive buffer would always fail that
 * test, so frames shorter than this are copied to offset 0 of the scratch buffer first (a short
 * byte loop, cheaper than the native call).
 */
const SMALL_FRAME_BYTES = 140;

export class FrameDelivery {
  private readonly scanner: MessageScanner;
  private scratch: Uint8Array | undefined;

  constructor(readonly maxMessageBytes: number, private readonly sink: RpcTransportSink) {
    this.scanner = new MessageScanner(maxMessageBytes);
  }

  /**
   * A frame that is its own Uint8Array (one object per message). Small frames are copied into
   * one long-lived buffer first: msgpackr caches a DataView as a property on each buffer it
   * decodes, and on a fresh object per message that allocation and shape change cost more than
   * the copy.
   */
  deliver(frame: Uint8Array): void {
    const length = frame.length;
    if (!this.acceptable(frame, 0, length)) return;
    if (length <= SCRATCH_BYTES) {
      const scratch = (this.scratch ??= new Uint8Array(SCRATCH_BYTES));
      scratch.set(frame, 0);
      this.sink.message(scratch, 0, length, this.scanner.usesExtension);
    } else {
      this.sink.message(frame, 0, length, this.scanner.usesExtension);
    }
  }

  /**
   * A frame at `bytes[start, end)` of a long-lived receive buffer (the channel's onFrame), valid
   * only during this call: decoded in place, no copy. The decoder copies every bin payload
   * (msgpack-codec.ts: copyBuffers), so nothing decoded aliases `bytes` after we return.
   */
  deliverInPlace(bytes: Uint8Array, start: number, end: number): void {
    if (!this.acceptable(bytes, start, end)) return;
    const length = end - start;
    if (length < SMALL_FRAME_BYTES && start > 0) {
      const scratch = (this.scratch ??= new Uint8Array(SCRATCH_BYTES));
      for (let i = 0; i < length; i++) scratch[i] = bytes[start + i]!;
      this.sink.message(scratch, 0, length, this.scanner.usesExtension);
    } else {
      this.sink.message(bytes, start, end, this.scanner.usesExtension);
    }
  }

  private acceptable(bytes: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    if (length > this.maxMessageBytes) {
      this.sink.malformed('oversized', `frame of ${length} bytes exceeds maxMessageBytes ${this.maxMessageBytes}`);
      return false;
    }
    const scanner = this.scanner;
    scanner.begin(start);
    const result = scanner.scan(bytes, end);
    if (result !== ScanResult.Complete || scanner.position !== end) {
      this.sink.malformed('not-msgpack', result === ScanResult.Complete
        ? `frame holds ${end - scanner.position} bytes after its MessagePack value`
        : result === ScanResult.NeedMore ? 'frame ends inside a MessagePack value' : 'frame is not MessagePack');
      return false;
    }
    if (scanner.tooManyValues) {
      this.sink.malformed('oversized', `frame holds more than ${scanner.maxValues} values`);
      return false;
    }
    if (scanner.usesPrivateExtension) {
      this.sink.malformed('private-extension', PRIVATE_EXTENSION_DETAIL);
      return false;
    }
    return true;
  }
}
