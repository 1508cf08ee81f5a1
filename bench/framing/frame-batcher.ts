/**
 * Sender half of the length-prefixed framing the stream-socket baselines use: each frame is a
 * u32 LE byte length followed by the message. Small messages are copied into a batch buffer and
 * the batch is handed to the transport in one write when the next frame would not fit -- the
 * way a competent user avoids one syscall per 16-byte message. Batch buffers come back through
 * the write callback and are reused, so the steady state allocates nothing.
 */
import { writeSequence } from '../message-pattern.js';

export const FRAME_HEADER_BYTES = 4;

export type BatchWriter = (batch: Buffer, done: () => void) => void;

export class FrameBatcher {
  private readonly free: Buffer[] = [];
  private current: Buffer;
  private used = 0;

  constructor(
    private readonly batchBytes: number,
    private readonly write: BatchWriter,
  ) {
    this.current = Buffer.allocUnsafeSlow(batchBytes);
  }

  /** Frames `payload` with `sequence` in its first four bytes. The payload must fit one batch. */
  append(payload: Buffer, sequence: number): void {
    const frameBytes = FRAME_HEADER_BYTES + payload.length;
    if (this.used + frameBytes > this.batchBytes) this.flush();
    const batch = this.current;
    batch.writeUInt32LE(payload.length, this.used);
    payload.copy(batch, this.used + FRAME_HEADER_BYTES);
    writeSequence(batch, this.used + FRAME_HEADER_BYTES, sequence);
    this.used += frameBytes;
  }

  /** Writes the partial batch, if any. */
  flush(): void {
    if (this.used === 0) return;
    const batch = this.current;
    const view = batch.subarray(0, this.used);
    this.current = this.free.pop() ?? Buffer.allocUnsafeSlow(this.batchBytes);
    this.used = 0;
    this.write(view, () => this.free.push(batch));
  }
}
