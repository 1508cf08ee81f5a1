/**
 * libxenvchan's event suppression (tools/libs/vchan/io.c), over the two notify bytes:
 * - request(bit): "wake me when you do <bit>": atomic OR of the bit into the PEER's notify byte.
 *   The RMW is sequentially consistent, so it is the full barrier before the caller re-checks
 *   the ring (closing the race where the peer moved between our check and our request).
 * - send(bit): after publishing an index: atomic fetch-and-clear of the bit in OUR notify byte;
 *   only if the peer had asked do we pay for an event. So a busy pair never makes a syscall.
 */
import type { EventChannel } from '@xenipc/core';

export class Notifier {
  private readonly clearMask: Uint8Array = new Uint8Array(256);

  constructor(
    private readonly bytes: Uint8Array,
    /** Offset of our own notify byte (the one the peer sets bits in and we clear). */
    private readonly ownOffset: number,
    /** Offset of the peer's notify byte. */
    private readonly peerOffset: number,
    private readonly port: EventChannel,
  ) {
    for (let bit = 0; bit < 256; bit++) this.clearMask[bit] = ~bit & 0xff;
  }

  request(bit: number): void {
    Atomics.or(this.bytes, this.peerOffset, bit);
  }

  send(bit: number): void {
    // A plain (seq-cst) load first: the locked RMW only when the peer asked. Safe because the
    // caller's index store and this load are both seq-cst, as are the peer's request() and its
    // re-check: either we see its bit, or it sees our index (Dekker's pattern).
    if ((Atomics.load(this.bytes, this.ownOffset) & bit) === 0) return;
    if ((Atomics.and(this.bytes, this.ownOffset, this.clearMask[bit] ?? 0xff) & bit) !== 0) this.port.notify();
  }

  /** An unconditional event (connect, close); spurious events are part of the protocol. */
  kick(): void {
    this.port.notify();
  }
}
