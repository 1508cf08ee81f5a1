/**
 * Writes msgpack-rpc messages whose values are all *simple* without msgpackr: the envelope and
 * its values go byte by byte into a slab, which costs about a fifth of a general pack() for a
 * typical call (bench/ANALYSIS.md, "RPC: simple messages without msgpackr").
 *
 * Simple values: null, undefined (written as nil), booleans, numbers, strings shorter than
 * MAX_STRING_UNITS UTF-16 units, and plain Arrays of simple values nested at most MAX_DEPTH deep.
 * A message holding anything else, or longer than MAX_MESSAGE_BYTES, gets `undefined` back, and
 * the caller encodes it the general way. The bytes are exactly what msgpackr writes with the
 * codec's options (msgpack-codec.ts), so which path encoded a message makes no difference:
 * integers that fit 32 bits in their smallest int form (-0 as 0), other numbers as float64,
 * UTF-8 strings with U+FFFD for a lone surrogate, arrays with their smallest header.
 */

/** Longest message this writer produces (bytes); a longer one is encoded the general way. */
export const MAX_MESSAGE_BYTES = 1024;
/** Strings with this many UTF-16 units or more are left to the general encoder. */
const MAX_STRING_UNITS = 64;
/** Nesting of arrays inside a message's payload (params or result) this writer follows. */
const MAX_DEPTH = 4;
/** Worst case of one value that is not an array or a string: float64, marker + 8 bytes. */
const MAX_SCALAR_BYTES = 9;
/** Messages are written one after another into a slab of this size, as msgpackr does; a result
 * is a view of it, never overwritten, so a transport may keep it as long as it likes. */
const SLAB_BYTES = 64 * 1024;

const FAILED = -1;

export class SimpleMessageWriter {
  private slab = new Uint8Array(SLAB_BYTES);
  private view = new DataView(this.slab.buffer);
  /** Where the next message starts in the slab. */
  private next = 0;
  /** Where the message being written must end at the latest. */
  private limit = 0;

  /** [0, msgid, method, params], or undefined if it is not simple. */
  request(msgid: number, method: string, params: readonly unknown[]): Uint8Array | undefined {
    let pos = this.begin();
    this.slab[pos++] = 0x94;
    this.slab[pos++] = 0;
    pos = this.number(pos, msgid);
    pos = this.string(pos, method);
    if (pos !== FAILED) pos = this.array(pos, params, 1);
    return this.end(pos);
  }

  /** [1, msgid, nil, result], or undefined if `result` is not simple. */
  response(msgid: number, result: unknown): Uint8Array | undefined {
    let pos = this.begin();
    this.slab[pos++] = 0x94;
    this.slab[pos++] = 1;
    pos = this.number(pos, msgid);
    this.slab[pos++] = 0xc0;
    return this.end(this.value(pos, result, 0));
  }

  /** [2, method, params], or undefined if it is not simple. */
  notification(method: string, params: readonly unknown[]): Uint8Array | undefined {
    let pos = this.begin();
    this.slab[pos++] = 0x93;
    this.slab[pos++] = 2;
    pos = this.string(pos, method);
    if (pos !== FAILED) pos = this.array(pos, params, 1);
    return this.end(pos);
  }

  /** Start a message: make sure the slab has room for the longest one. */
  private begin(): number {
    if (this.next + MAX_MESSAGE_BYTES > this.slab.length) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.view = new DataView(this.slab.buffer);
      this.next = 0;
    }
    this.limit = this.next + MAX_MESSAGE_BYTES;
    return this.next;
  }

  private end(pos: number): Uint8Array | undefined {
    if (pos === FAILED) return undefined;
    const start = this.next;
    this.next = pos;
    return this.slab.subarray(start, pos);
  }

  private value(pos: number, value: unknown, depth: number): number {
    if (pos === FAILED) return FAILED;
    switch (typeof value) {
      case 'number': return pos + MAX_SCALAR_BYTES > this.limit ? FAILED : this.number(pos, value);
      case 'string': return this.string(pos, value);
      case 'boolean':
        if (pos >= this.limit) return FAILED;
        this.slab[pos] = value ? 0xc3 : 0xc2;
        return pos + 1;
      case 'undefined':
        if (pos >= this.limit) return FAILED;
        this.slab[pos] = 0xc0;
        return pos + 1;
      case 'object':
        if (value === null) {
          if (pos >= this.limit) return FAILED;
          this.slab[pos] = 0xc0;
          return pos + 1;
        }
        if (depth < MAX_DEPTH && Array.isArray(value) && value.constructor === Array) return this.array(pos, value, depth + 1);
        return FAILED;
      default:
        return FAILED;
    }
  }

  private array(pos: number, items: readonly unknown[], depth: number): number {
    const length = items.length;
    // every item takes at least one byte, so a longer array cannot fit
    if (pos + 3 + length > this.limit) return FAILED;
    const slab = this.slab;
    if (length < 0x10) {
      slab[pos++] = 0x90 | length;
    } else {
      slab[pos++] = 0xdc;
      slab[pos++] = length >> 8;
      slab[pos++] = length & 0xff;
    }
    for (let i = 0; i < length && pos !== FAILED; i++) pos = this.value(pos, items[i], depth);
    return pos;
  }

  /** A number, as msgpackr writes it with useRecords: false (the caller checked the room). */
  private number(pos: number, value: number): number {
    const slab = this.slab;
    if (value >>> 0 === value) {
      if (value < 0x80) {
        slab[pos] = value;
        return pos + 1;
      }
      if (value < 0x100) {
        slab[pos] = 0xcc;
        slab[pos + 1] = value;
        return pos + 2;
      }
      if (value < 0x10000) {
        slab[pos] = 0xcd;
        slab[pos + 1] = value >> 8;
        slab[pos + 2] = value & 0xff;
        return pos + 3;
      }
      slab[pos] = 0xce;
      this.view.setUint32(pos + 1, value);
      return pos + 5;
    }
    if (value >> 0 === value) {
      if (value >= -0x20) {
        slab[pos] = 0x100 + value;
        return pos + 1;
      }
      if (value >= -0x80) {
        slab[pos] = 0xd0;
        slab[pos + 1] = value + 0x100;
        return pos + 2;
      }
      if (value >= -0x8000) {
        slab[pos] = 0xd1;
        this.view.setInt16(pos + 1, value);
        return pos + 3;
      }
      slab[pos] = 0xd2;
      this.view.setInt32(pos + 1, value);
      return pos + 5;
    }
    slab[pos] = 0xcb;
    this.view.setFloat64(pos + 1, value);
    return pos + 9;
  }

  /** A string as UTF-8 (fixstr or str8: fewer than 64 units make at most 189 bytes). */
  private string(pos: number, value: string): number {
    if (pos === FAILED) return FAILED;
    const units = value.length;
    if (units >= MAX_STRING_UNITS || pos + 2 + 3 * units > this.limit) return FAILED;
    const slab = this.slab;
    // Written after a one-byte header; moved one byte on for str8 (as msgpackr does).
    const first = pos + 1;
    let at = first;
    for (let i = 0; i < units; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) {
        slab[at++] = c;
      } else if (c < 0x800) {
        slab[at++] = (c >> 6) | 0xc0;
        slab[at++] = (c & 0x3f) | 0x80;
      } else if ((c & 0xfc00) === 0xd800 && i + 1 < units && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c & 0x03ff) << 10) + (value.charCodeAt(++i) & 0x03ff);
        slab[at++] = (c >> 18) | 0xf0;
        slab[at++] = ((c >> 12) & 0x3f) | 0x80;
        slab[at++] = ((c >> 6) & 0x3f) | 0x80;
        slab[at++] = (c & 0x3f) | 0x80;
      } else if ((c & 0xf800) === 0xd800) {
        // a lone surrogate: U+FFFD, as msgpackr and TextEncoder write it
        slab[at++] = 0xef;
        slab[at++] = 0xbf;
        slab[at++] = 0xbd;
      } else {
        slab[at++] = (c >> 12) | 0xe0;
        slab[at++] = ((c >> 6) & 0x3f) | 0x80;
        slab[at++] = (c & 0x3f) | 0x80;
      }
    }
    const length = at - first;
    if (length < 0x20) {
      slab[pos] = 0xa0 | length;
      return at;
    }
    slab.copyWithin(first + 1, first, at);
    slab[pos] = 0xd9;
    slab[pos + 1] = length;
    return at + 1;
  }
}
