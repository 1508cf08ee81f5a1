/**
 * One direction of a vchan: a power-of-two byte ring plus its two free-running u32 indexes in
 * the control page. The peer is untrusted, so:
 * - our own index lives in a private field (loaded once at connect, only ever stored to the
 *   page); a peer scribbling over it changes nothing for us;
 * - the peer's index is loaded ONCE per check into a local (Atomics.load, which is also the
 *   barrier), and the fill level is computed in u32 arithmetic; a fill above the ring size
 *   means "nothing available / no space" (XSA-86: stall, never overflow);
 * - every position is masked with size-1, so bad indexes can only make us touch the wrong part
 *   of the ring, never memory outside it.
 * Copies: byte loops for short runs (no allocation), TypedArray.set for long ones.
 */
import { NOTIFY_READ, NOTIFY_WRITE } from './control-page.js';
import type { Notifier } from './notifier.js';

/**
 * Up to this many bytes a plain loop beats subarray()+set() (and allocates nothing). Measured with
 * bench/tools/message-cost.ts: the loop costs ~2 ns per byte here (the element accesses see several
 * kinds of Uint8Array), set() ~20 ns flat, so the break-even is near 8.
 */
const LOOP_COPY_MAX = 8;

/**
 * How far ahead of prod a batch of frames takes the ring's cache lines in one go (see
 * RingProducer.touchAheadOf). 16 KiB measured a little slower at 64 B (656 against 684 MB/s).
 */
const TOUCH_AHEAD_BYTES = 4096;
/** Frames up to this size (header included) are written after a touch-ahead; bigger ones are
 * copied in with one memmove, which takes their lines in a run by itself (at 4 KiB the fill
 * measured no gain, and it doubles the bytes written). */
const TOUCH_AHEAD_FRAME_MAX = 1028;

function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  if (n <= LOOP_COPY_MAX) {
    for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i] as number;
  } else {
    dst.set(src.subarray(srcOff, srcOff + n), dstOff);
  }
}

abstract class RingSide {
  readonly size: number;
  protected readonly mask: number;
  /** For little-endian u32 frame headers that do not straddle the ring's end (one access, not four). */
  protected readonly view: DataView;

  constructor(
    protected readonly words: Int32Array,
    /** Word index (in `words`) of the index we own. */
    protected readonly ownIndex: number,
    /** Word index of the index the peer owns. */
    protected readonly peerIndex: number,
    protected readonly data: Uint8Array,
    protected readonly notifier: Notifier,
  ) {
    this.size = data.length;
    this.mask = data.length - 1;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Committed-but-unconsumed bytes per the current indexes (0 if the indexes are insane). */
  protected fill(prod: number, cons: number): number {
    const fill = (prod - cons) >>> 0;
    return fill > this.size ? -1 : fill;
  }
}

/** The reading side: we own `cons`, the peer owns `prod`. */
export class RingConsumer extends RingSide {
  private cons: number;

  constructor(words: Int32Array, consIndex: number, prodIndex: number, data: Uint8Array, notifier: Notifier) {
    super(words, consIndex, prodIndex, data, notifier);
    this.cons = Atomics.load(words, consIndex) >>> 0;
  }

  /** Bytes readable now: one load of the peer's prod. */
  available(): number {
    const fill = this.fill(Atomics.load(this.words, this.peerIndex), this.cons);
    return fill < 0 ? 0 : fill;
  }

  /** Copy n bytes out and advance our private cons. The caller guarantees n <= available(). */
  copyOut(dst: Uint8Array, dstOff: number, n: number): void {
    if (n > this.size) throw new RangeError('copyOut beyond the ring size');
    const pos = this.cons & this.mask;
    const first = Math.min(n, this.size - pos);
    copyBytes(this.data, pos, dst, dstOff, first);
    if (n > first) copyBytes(this.data, 0, dst, dstOff + first, n - first);
    this.cons = (this.cons + n) >>> 0;
  }

  /**
   * A fresh copy of the next n bytes (n <= available()). Where they do not wrap, one native
   * slice(): for small n that is a single V8-heap allocation plus copy, cheaper than new + loop.
   */
  takeCopy(n: number): Uint8Array {
    const pos = this.cons & this.mask;
    if (pos + n <= this.size) {
      this.cons = (this.cons + n) >>> 0;
      return this.data.slice(pos, pos + n);
    }
    const out = new Uint8Array(n);
    this.copyOut(out, 0, n);
    return out;
  }

  /** Little-endian u32 from the next 4 bytes (4 <= available()), copied out before use. */
  takeU32(): number {
    const c = this.cons;
    const m = this.mask;
    const pos = c & m;
    this.cons = (c + 4) >>> 0;
    if (pos <= this.size - 4) return this.view.getUint32(pos, true);
    const d = this.data;
    const v = (d[pos] as number) | ((d[(c + 1) & m] as number) << 8) | ((d[(c + 2) & m] as number) << 16) | ((d[(c + 3) & m] as number) << 24);
    return v >>> 0;
  }

  /**
   * Store cons (seq-cst, so the copies above happen-before it), then wake a writer that asked;
   * a plain libxenvchan writer also when we emptied the ring (see notifier.ts). With a xenipc
   * peer that costs nothing once its flag was seen: no further load of the shared line, which
   * the spinning peer keeps pulling back to its core.
   */
  publish(): void {
    Atomics.store(this.words, this.ownIndex, this.cons | 0);
    const notifier = this.notifier;
    if (notifier.send(NOTIFY_READ) || notifier.peerSpeaksGoodbye()) return;
    if (Atomics.load(this.words, this.peerIndex) >>> 0 === this.cons) notifier.kick();
  }

  /** Ask for an event when the peer writes. */
  armNotify(): void {
    this.notifier.request(NOTIFY_WRITE);
  }
}

/** The writing side: we own `prod`, the peer owns `cons`. */
export class RingProducer extends RingSide {
  private prod: number;
  /** Free bytes as of the last space() minus what we wrote since: a lower bound, so a run of
   * small writes touches the peer's index only when this runs out. */
  private knownSpace = 0;
  /** prod as of the last publish(): a frame written there is the first of its batch. */
  private publishedProd: number;
  /** The free space up to here has been written ahead by touchAhead() (a ring position). */
  private touchedUpTo: number;

  constructor(words: Int32Array, prodIndex: number, consIndex: number, data: Uint8Array, notifier: Notifier) {
    super(words, prodIndex, consIndex, data, notifier);
    this.prod = Atomics.load(words, prodIndex) >>> 0;
    this.publishedProd = this.prod;
    this.touchedUpTo = this.prod;
  }

  /** Free bytes now: one load of the peer's cons. */
  space(): number {
    const fill = this.fill(this.prod, Atomics.load(this.words, this.peerIndex));
    this.knownSpace = fill < 0 ? 0 : this.size - fill;
    return this.knownSpace;
  }

  /** True if n bytes can be written now, re-reading the peer's index only when needed. */
  hasSpace(n: number): boolean {
    return n <= this.knownSpace || n <= this.space();
  }

  /** Copy n bytes in (n <= space()); nothing is visible to the peer before publish(). */
  copyIn(src: Uint8Array, srcOff: number, n: number): void {
    if (n > this.size) throw new RangeError('copyIn beyond the ring size');
    const pos = this.prod & this.mask;
    const first = Math.min(n, this.size - pos);
    if (srcOff === 0 && first === src.length && first > LOOP_COPY_MAX) this.data.set(src, pos);
    else copyBytes(src, srcOff, this.data, pos, first);
    if (n > first) copyBytes(src, srcOff + first, this.data, 0, n - first);
    this.prod = (this.prod + n) >>> 0;
    this.knownSpace = this.knownSpace > n ? this.knownSpace - n : 0;
  }

  /**
   * A frame: u32 little-endian length, then the bytes (4 + src.length <= space(), and
   * <= size). One index computation for both; the header is one DataView store unless it wraps.
   */
  putFrame(src: Uint8Array): void {
    const n = src.length;
    const p = this.prod;
    if (4 + n <= TOUCH_AHEAD_FRAME_MAX && p !== this.publishedProd) this.touchAheadOf(p, 4 + n);
    const pos = p & this.mask;
    if (pos + 4 + n > this.size) {
      this.putU32(n);
      this.copyIn(src, 0, n);
      return;
    }
    this.view.setUint32(pos, n, true);
    const d = this.data;
    if (n <= LOOP_COPY_MAX) {
      const at = pos + 4;
      for (let i = 0; i < n; i++) d[at + i] = src[i] as number;
    } else d.set(src, pos + 4);
    const total = n + 4;
    this.prod = (p + total) >>> 0;
    this.knownSpace = this.knownSpace > total ? this.knownSpace - total : 0;
  }

  /**
   * Views of the n bytes that follow a frame header at prod (4 + n <= space(), <= size): one, or
   * two when they wrap. Nothing moves: commitFrame(m) (m <= n) makes them a frame.
   */
  claimViews(n: number): Uint8Array[] {
    if (n + 4 > this.size) throw new RangeError('claim beyond the ring size');
    if (4 + n <= TOUCH_AHEAD_FRAME_MAX && this.prod !== this.publishedProd) this.touchAheadOf(this.prod, 4 + n);
    const at = (this.prod + 4) & this.mask;
    const d = this.data;
    const first = Math.min(n, this.size - at);
    return first === n ? [d.subarray(at, at + n)] : [d.subarray(at, this.size), d.subarray(0, n - first)];
  }

  /** The frame whose n payload bytes were written through claimViews(): its header, then prod past it. */
  commitFrame(n: number): void {
    this.putU32(n);
    this.prod = (this.prod + n) >>> 0;
    this.knownSpace = this.knownSpace > n ? this.knownSpace - n : 0;
  }

  putU32(v: number): void {
    const d = this.data;
    const m = this.mask;
    const p = this.prod;
    d[p & m] = v & 0xff;
    d[(p + 1) & m] = (v >>> 8) & 0xff;
    d[(p + 2) & m] = (v >>> 16) & 0xff;
    d[(p + 3) & m] = (v >>> 24) & 0xff;
    this.prod = (p + 4) >>> 0;
    this.knownSpace = this.knownSpace > 4 ? this.knownSpace - 4 : 0;
  }

  /** Store prod (seq-cst: the copies happen-before it), then wake a reader that asked. */
  publish(): void {
    Atomics.store(this.words, this.ownIndex, this.prod | 0);
    this.publishedProd = this.prod;
    this.notifier.send(NOTIFY_WRITE);
  }

  /**
   * Before writing a small frame of `bytes` at p (p = prod, bytes <= knownSpace), inside a
   * batch: if they reach past what was touched ahead, write zeros over the next
   * TOUCH_AHEAD_BYTES of free space first. Why: the reader's core last read those cache lines, and a small frame written into
   * them line by line waits for each line to come back to our core, between the many other
   * stores of the JS around it. One fill takes them in a single run, and the frames that follow
   * write into lines we own. Measured with bench/tools/probe-stream.ts, alternated run by run:
   * 64 B frames +23-32 %, 1 KiB +13 %, 4 KiB in a 1 MiB ring no change (bench/ANALYSIS.md,
   * "Small-message streams: where the time goes"). Only free space is written (knownSpace is a
   * lower bound of it), which the reader does not look at. The first frame after a publish is
   * left alone: it may be a lone message (a ping, an RPC call) whose latency the fill would add to.
   */
  private touchAheadOf(p: number, bytes: number): void {
    const ahead = (this.touchedUpTo - p) | 0;
    if (ahead >= bytes && ahead <= this.size) return;
    const len = Math.min(this.knownSpace, TOUCH_AHEAD_BYTES);
    const pos = p & this.mask;
    const first = Math.min(len, this.size - pos);
    this.data.fill(0, pos, pos + first);
    if (len > first) this.data.fill(0, 0, len - first);
    this.touchedUpTo = (p + len) >>> 0;
  }

  /** Ask for an event when the peer consumes. */
  armNotify(): void {
    this.notifier.request(NOTIFY_READ);
  }
}
