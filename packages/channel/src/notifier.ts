/**
 * libxenvchan's event suppression (tools/libs/vchan/io.c), over the two notify bytes:
 * - request(bit): "wake me when you do <bit>": atomic OR of the bit into the PEER's notify byte.
 *   The RMW is sequentially consistent, so it is the full barrier before the caller re-checks
 *   the ring (closing the race where the peer moved between our check and our request).
 * - send(bit): after publishing an index: atomic fetch-and-clear of the bit in OUR notify byte;
 *   only if the peer had asked do we pay for an event. So a busy pair never makes a syscall.
 * - unasked events: one exception, for plain libxenvchan peers. libxenvchan's own tools may
 *   wait for an event after a write that fit without asking for one (vchan-socket-proxy, at
 *   the end of its input: it writes the rest, then blocks in libxenvchan_wait until the reader
 *   acts, and would wait forever). So when we have emptied the ring of a peer that does not
 *   speak xenipc's extension (no FLAG_SPEAKS_GOODBYE in its notify byte), we send it an event
 *   even unasked: a spurious event is harmless to libxenvchan; xenipc peers never get one.
 */
import type { EventChannel } from '@xenipc/core';
import { FLAG_SPEAKS_GOODBYE } from './control-page.js';

export class Notifier {
  private readonly clearMask: Uint8Array = new Uint8Array(256);
  private peerIsXenipc = false;
  /** send() delivered an event since the last takeWokePeer(). */
  private wokePeer = false;

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

  /** True if the peer had asked and got its event. */
  send(bit: number): boolean {
    // A plain (seq-cst) load first: the locked RMW only when the peer asked. Safe because the
    // caller's index store and this load are both seq-cst, as are the peer's request() and its
    // re-check: either we see its bit, or it sees our index (Dekker's pattern).
    if ((Atomics.load(this.bytes, this.ownOffset) & bit) === 0) return false;
    if ((Atomics.and(this.bytes, this.ownOffset, this.clearMask[bit] ?? 0xff) & bit) === 0) return false;
    this.port.notify();
    this.wokePeer = true;
    return true;
  }

  /** True once after send() woke the peer from a wait: its answer is at least a wake-up away. */
  takeWokePeer(): boolean {
    const woke = this.wokePeer;
    this.wokePeer = false;
    return woke;
  }

  /**
   * True if the peer speaks xenipc's extension, so it needs no unasked event when we empty its
   * ring (see the header). Latched once seen: a xenipc peer sets the flag before its first
   * write and never clears it, so the hot path stops loading the peer's byte; a hostile peer
   * that clears it later only loses the spurious events it would have got.
   */
  peerSpeaksGoodbye(): boolean {
    if (this.peerIsXenipc) return true;
    this.peerIsXenipc = (Atomics.load(this.bytes, this.peerOffset) & FLAG_SPEAKS_GOODBYE) !== 0;
    return this.peerIsXenipc;
  }

  /** An unconditional event (connect, close); spurious events are part of the protocol. */
  kick(): void {
    this.port.notify();
  }
}
