/**
 * For transports that keep message boundaries (channel, in-memory): check that a frame holds
 * exactly one acceptable MessagePack value before the peer decodes it. A bad frame only drops
 * that frame; boundaries of the next frames are unaffected.
 */
import { MessageScanner, ScanResult } from '../wire/message-scanner.js';
import type { RpcTransportSink } from './rpc-transport.js';

/** Frames up to this size are decoded from one reused buffer (see deliver()). */
const SCRATCH_BYTES = 64 * 1024;

export class FrameDelivery {
  private readonly scanner: MessageScanner;
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);

  constructor(readonly maxMessageBytes: number, private readonly sink: RpcTransportSink) {
    this.scanner = new MessageScanner(maxMessageBytes);
  }

  deliver(frame: Uint8Array): void {
    const length = frame.length;
    if (length > this.maxMessageBytes) {
      this.sink.malformed('oversized', `frame of ${length} bytes exceeds maxMessageBytes ${this.maxMessageBytes}`);
      return;
    }
    const scanner = this.scanner;
    scanner.begin(0);
    const result = scanner.scan(frame, length);
    if (result !== ScanResult.Complete || scanner.position !== length) {
      this.sink.malformed('not-msgpack', result === ScanResult.Complete
        ? `frame holds ${length - scanner.position} bytes after its MessagePack value`
        : result === ScanResult.NeedMore ? 'frame ends inside a MessagePack value' : 'frame is not MessagePack');
      return;
    }
    if (scanner.usesPrivateExtension) {
      this.sink.malformed('private-extension', 'msgpackr-private extension (records 0x72 / bundled strings 0x62) is not accepted');
      return;
    }
    if (length <= SCRATCH_BYTES) {
      // msgpackr caches a DataView as a property on each buffer it decodes; on a fresh frame
      // per message that allocation and shape change cost more than copying a small frame into
      // one long-lived buffer
      this.scratch.set(frame, 0);
      this.sink.message(this.scratch, 0, length);
    } else {
      this.sink.message(frame, 0, length);
    }
  }
}
