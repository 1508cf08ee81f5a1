/**
 * Received bytes copied out of the ring into private memory in bulk, then cut into frames there:
 * the receive path of MessageChannel's `onFrame` option. One copy for any number of frames, no
 * allocation per frame, and the frames are parsed only after the copy, so a peer rewriting the
 * ring meanwhile cannot change what we parse (the hostile-peer rule "copy out before parsing").
 *
 * Holds unparsed bytes in [start, end). Grows (rarely) to hold one whole frame: at most
 * 4 + maxMessageSize bytes, the same bound as assembling a streamed message.
 */
import { uninitializedBytes } from './message-slab.js';
import type { RingConsumer } from './ring.js';

const HEADER_BYTES = 4;
/** Empty fills without a big frame after which a grown buffer goes back to its first size. */
const SHRINK_AFTER_FILLS = 256;

export class FrameBuffer {
  bytes: Uint8Array;
  private view: DataView;
  start = 0;
  end = 0;
  /** Fills that found us empty since a frame last needed reserve() (see fill()). */
  private fillsSinceGrowth = 0;

  constructor(private readonly initialBytes: number) {
    this.bytes = new Uint8Array(initialBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Bytes received but not yet cut into delivered frames. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * Copy up to `available` bytes from the ring (available <= consumer.available()); returns the
   * count. A big copy hands the space back as it goes: the consumer index is published after
   * every quarter of the first size (a quarter ring), so a writer waiting for room refills while
   * the rest is copied. Copying a whole 1 MiB ring at once kept a waiting writer out for longer
   * than its spin, and then it slept: a wake-up per ring's worth (bench/ANALYSIS.md, "A writer
   * shut out by the receiver's copy"). The last piece is the caller's to publish: it chooses
   * when (MessageChannel.drainFrames).
   */
  fill(consumer: RingConsumer, available: number): number {
    if (this.start === this.end) {
      this.start = this.end = 0;
      // Big frames grew us: give the memory back once they stopped coming (not after each one,
      // or a stream of them would allocate a buffer per frame).
      if (this.bytes.length > 4 * this.initialBytes && ++this.fillsSinceGrowth > SHRINK_AFTER_FILLS) {
        this.setBytes(new Uint8Array(this.initialBytes));
      }
    } else if (this.bytes.length - this.end < available && this.start > 0) {
      this.bytes.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    const n = Math.min(available, this.bytes.length - this.end);
    const piece = this.initialBytes >>> 2;
    for (let left = n; left > 0; ) {
      const k = Math.min(left, piece);
      consumer.copyOut(this.bytes, this.end, k);
      this.end += k;
      left -= k;
      if (left > 0) consumer.publish();
    }
    return n;
  }

  /**
   * How much to copy next, given `available` bytes in the ring: everything, unless the frame at
   * `start` is big and incomplete; then exactly its missing bytes, so the frame ends at `end`
   * and the buffer empties when it is delivered. Copying past a big frame would leave the start
   * of the next one behind it, to be moved to the front by a later fill: a third copy of most of
   * every message when messages are about the ring's size.
   */
  wanted(available: number): number {
    const len = this.nextLength();
    if (len < 0 || HEADER_BYTES + len <= this.initialBytes >>> 2) return available;
    const missing = HEADER_BYTES + len - (this.end - this.start);
    return missing > 0 ? Math.min(available, missing) : available;
  }

  /**
   * The next frame is all here. MessageChannel then delivers before it copies more: a fill now
   * would first move the undelivered frames to the front (a third copy of them), which is what
   * happened after every yield of the drain budget in the middle of a buffer (bench/ANALYSIS.md,
   * "Big messages after the drain budget's yield").
   */
  holdsWholeFrame(): boolean {
    const len = this.nextLength();
    return len >= 0 && this.end - this.start >= HEADER_BYTES + len;
  }

  /** Payload length announced by the next header, or -1 if the header is not all here. */
  nextLength(): number {
    return this.end - this.start >= HEADER_BYTES ? this.view.getUint32(this.start, true) : -1;
  }

  /** Make room for a frame of `frameBytes` (header included) starting at `start`. */
  reserve(frameBytes: number): void {
    if (frameBytes > this.initialBytes) this.fillsSinceGrowth = 0;
    if (frameBytes <= this.bytes.length - this.start) return;
    if (frameBytes <= this.bytes.length) {
      this.bytes.copyWithin(0, this.start, this.end);
    } else {
      // Not zeroed: only bytes copied from the ring are ever handed out.
      const grown = uninitializedBytes(Math.max(frameBytes, this.bytes.length * 2));
      grown.set(this.bytes.subarray(this.start, this.end));
      this.setBytes(grown);
    }
    this.end -= this.start;
    this.start = 0;
  }

  private setBytes(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
  }
}
