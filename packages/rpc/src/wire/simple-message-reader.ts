/**
 * Reads a received message whose values are all *simple* without msgpackr: nil, booleans, ints of
 * up to 32 bits, float64, ASCII strings shorter than MAX_STRING_BYTES, and arrays of those nested
 * at most MAX_DEPTH deep (what simple-message-writer.ts writes, and what most calls carry).
 *
 * Anything else -- a map, bin, ext, float32, 64-bit int, a longer or non-ASCII string, a deeper
 * array, bytes after the value, a truncated value -- gives NOT_SIMPLE, and the caller decodes
 * the message with the general decoder, whose values and errors are then exactly the ones the
 * message always had. The values read here are the ones msgpackr gives for the same bytes.
 *
 * The bytes are the peer's: every length is checked against the bytes left before anything is
 * allocated for it, and nothing is read outside [start, end).
 */

/** What read() returns when the message is not simple (decode it the general way). */
export const NOT_SIMPLE: unique symbol = Symbol('not simple');

const MAX_STRING_BYTES = 64;
const MAX_DEPTH = 5;

export class SimpleMessageReader {
  private buf: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private pos = 0;
  private end = 0;
  /** Set when something that is not simple was met; the value read is then meaningless. */
  private failed = false;

  /** The message in `buf[start, end)`, or NOT_SIMPLE. */
  read(buf: Uint8Array, start: number, end: number): unknown {
    if (this.buf !== buf) {
      // transports hand over the same receive buffer again and again: one DataView for it
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.pos = start;
    this.end = end;
    this.failed = false;
    const value = this.value(0);
    return !this.failed && this.pos === end ? value : NOT_SIMPLE;
  }

  private fail(): undefined {
    this.failed = true;
    this.pos = this.end;
    return undefined;
  }

  private value(depth: number): unknown {
    const pos = this.pos;
    if (pos >= this.end) return this.fail();
    const buf = this.buf;
    const token = buf[pos] as number;
    this.pos = pos + 1;
    if (token < 0x80) return token;
    if (token >= 0xe0) return token - 0x100;
    if (token >= 0xa0 && token < 0xc0) return this.ascii(token & 0x1f);
    if (token >= 0x90 && token < 0xa0) return this.array(token & 0x0f, depth);
    switch (token) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xcc: return this.fixed(1) ? (buf[pos + 1] as number) : undefined;
      case 0xcd: return this.fixed(2) ? this.view.getUint16(pos + 1) : undefined;
      case 0xce: return this.fixed(4) ? this.view.getUint32(pos + 1) : undefined;
      case 0xd0: return this.fixed(1) ? this.view.getInt8(pos + 1) : undefined;
      case 0xd1: return this.fixed(2) ? this.view.getInt16(pos + 1) : undefined;
      case 0xd2: return this.fixed(4) ? this.view.getInt32(pos + 1) : undefined;
      case 0xcb: return this.fixed(8) ? this.view.getFloat64(pos + 1) : undefined;
      case 0xd9: return this.fixed(1) ? this.ascii(buf[pos + 1] as number) : undefined;
      case 0xdc: return this.fixed(2) ? this.array(this.view.getUint16(pos + 1), depth) : undefined;
      default: return this.fail();
    }
  }

  /** Skips `n` bytes after the token, if the message has them. */
  private fixed(n: number): boolean {
    const next = this.pos + n;
    if (next > this.end) {
      this.fail();
      return false;
    }
    this.pos = next;
    return true;
  }

  private array(length: number, depth: number): unknown {
    // an item takes at least one byte: a longer array cannot be in what is left
    if (depth >= MAX_DEPTH || length > this.end - this.pos) return this.fail();
    const items = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      items[i] = this.value(depth + 1);
      if (this.failed) return undefined;
    }
    return items;
  }

  private ascii(length: number): string | undefined {
    const start = this.pos;
    const stop = start + length;
    if (length >= MAX_STRING_BYTES || stop > this.end) return this.fail();
    const buf = this.buf;
    let text = '';
    for (let i = start; i < stop; i++) {
      const c = buf[i] as number;
      if (c >= 0x80) return this.fail();
      text += String.fromCharCode(c);
    }
    this.pos = stop;
    return text;
  }
}
