/**
 * Receiver half of the length-prefixed framing (see frame-batcher.ts). Frames that lie inside one
 * chunk are delivered in place (no copy); a frame split across chunks is reassembled into a
 * buffer kept for reuse, which is what any stream-socket user must do to hand out whole messages.
 */
import { FRAME_HEADER_BYTES } from './frame-batcher.js';

/** Gets each whole message as (bytes, offset, length); the bytes are only valid during the call. */
export type FrameHandler = (bytes: Uint8Array, offset: number, length: number) => void;

export class FrameParser {
  private header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private assembly = Buffer.alloc(0);
  /** Bytes of the frame being reassembled that are still missing (0 = none in progress). */
  private missing = 0;
  private frameLength = 0;

  constructor(
    private readonly onFrame: FrameHandler,
    private readonly maxFrameBytes: number,
  ) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    const end = chunk.length;
    if (this.headerFill > 0 || this.missing > 0) at = this.continuePartial(chunk);
    while (at < end) {
      if (end - at < FRAME_HEADER_BYTES) {
        this.header.set(chunk.subarray(at, end), 0);
        this.headerFill = end - at;
        return;
      }
      const length = (chunk[at]! | (chunk[at + 1]! << 8) | (chunk[at + 2]! << 16) | (chunk[at + 3]! << 24)) >>> 0;
      at += FRAME_HEADER_BYTES;
      if (end - at >= length) {
        this.onFrame(chunk, at, length);
        at += length;
      } else {
        this.startAssembly(length);
        const part = end - at;
        this.assembly.set(chunk.subarray(at, end), 0);
        this.missing = length - part;
        return;
      }
    }
  }

  /** Finishes a split header and/or frame; returns where whole frames resume in `chunk`. */
  private continuePartial(chunk: Uint8Array): number {
    let at = 0;
    if (this.headerFill > 0) {
      const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length);
      this.header.set(chunk.subarray(0, take), this.headerFill);
      this.headerFill += take;
      at = take;
      if (this.headerFill < FRAME_HEADER_BYTES) return chunk.length;
      this.headerFill = 0;
      this.startAssembly(this.header.readUInt32LE(0));
      this.missing = this.frameLength;
      if (this.missing === 0) {
        this.onFrame(this.assembly, 0, 0);
        return at;
      }
    }
    const take = Math.min(this.missing, chunk.length - at);
    this.assembly.set(chunk.subarray(at, at + take), this.frameLength - this.missing);
    this.missing -= take;
    at += take;
    if (this.missing === 0) this.onFrame(this.assembly, 0, this.frameLength);
    return at;
  }

  private startAssembly(length: number): void {
    if (length > this.maxFrameBytes) throw new Error(`frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
    if (this.assembly.length < length) this.assembly = Buffer.allocUnsafeSlow(length);
    this.frameLength = length;
  }
}
