/**
 * Finds where one MessagePack value ends without decoding it.
 *
 * MessagePack is self-delimiting, so a byte stream of concatenated messages can be split by reading
 * only type headers and lengths. Doing that ourselves (instead of letting the decoder discover the
 * end) gives three things the decoder cannot: a size limit enforced before any payload is buffered or
 * decoded, resumption across partial chunks without re-reading what was already scanned, and a clean
 * distinction between "this message is bad" (framing intact, drop the message) and "these bytes are
 * not MessagePack" (framing lost, drop the connection).
 *
 * The scan is iterative (a count of values still to read), so hostile nesting depth costs no stack.
 */

/**
 * Default bound on the values in one message (each extension value counts EXTENSION_VALUE_COST).
 * Decoding costs time and memory per value, far more per value than per byte (16 MiB of empty
 * maps is 16 M objects); this keeps one message's decode to a fraction of a second.
 */
export const DEFAULT_MAX_MESSAGE_VALUES = 1 << 20;
/** An extension value costs an object and a payload copy: counted as this many values. */
const EXTENSION_VALUE_COST = 4;

/** Scan outcome codes returned by {@link MessageScanner.scan}. */
export enum ScanResult {
  /** One whole value lies between the message start and `scanner.position`. */
  Complete = 0,
  /** More bytes are needed; call `scan` again with the same start once they arrive. */
  NeedMore = 1,
  /** Byte 0xc1 (never used by MessagePack): the stream is not MessagePack, framing is lost. */
  InvalidByte = 2,
  /** The value would exceed the size limit. */
  TooLarge = 3,
}

/**
 * Extension types private to msgpackr's decoder: records (0x72: the peer defines object shapes the
 * decoder compiles), bundled strings (0x62: moves the read position) and BigInt (0x42: a decode
 * cost that grows faster than its size). No standard peer sends them; messages using them are
 * rejected before any decoder sees them, and an RpcPeer does not let them be registered.
 */
export const REFUSED_EXTENSION_TYPES: readonly number[] = [0x42, 0x62, 0x72];
/** The `protocol-error` detail for a message refused for a private extension type. */
export const PRIVATE_EXTENSION_DETAIL = 'msgpackr-private extension (BigInt 0x42 / bundled strings 0x62 / records 0x72) is not accepted';
const MSGPACKR_BIGINT_EXT = 0x42;
const MSGPACKR_RECORDS_EXT = 0x72;
const MSGPACKR_BUNDLED_STRINGS_EXT = 0x62;

/**
 * Resumable scanner for one message at a time. Call {@link begin} at a message start, then
 * {@link scan} until it returns something other than NeedMore.
 */
export class MessageScanner {
  /** Offset of the next unread header (after Complete: one past the message's last byte). */
  position = 0;
  /** The message uses an extension type private to msgpackr's decoder (see REFUSED_EXTENSION_TYPES). */
  usesPrivateExtension = false;
  /** The message holds at least one extension value (of any type). */
  usesExtension = false;
  /** Values seen so far in this message (extension values weighted, see EXTENSION_VALUE_COST). */
  values = 0;
  private start = 0;
  private pending = 0;

  constructor(public maxMessageBytes: number, public maxValues: number = DEFAULT_MAX_MESSAGE_VALUES) {}

  /** After Complete: the message holds more values than maxValues (drop it; framing is intact). */
  get tooManyValues(): boolean {
    return this.values > this.maxValues;
  }

  begin(start: number): void {
    this.start = start;
    this.position = start;
    this.pending = 1;
    this.usesPrivateExtension = false;
    this.usesExtension = false;
    this.values = 0;
  }

  /** Rebase offsets after the caller moved the unscanned bytes to a new buffer position. */
  shift(delta: number): void {
    this.start += delta;
    this.position += delta;
  }

  scan(buf: Uint8Array, end: number): ScanResult {
    let pos = this.position;
    let pending = this.pending;
    const limit = this.start + this.maxMessageBytes;
    while (pending > 0) {
      // every value still pending needs at least one byte
      if (pos + pending > limit) return this.stop(pos, pending, ScanResult.TooLarge);
      if (pos >= end) return this.stop(pos, pending, ScanResult.NeedMore);
      const token = buf[pos]!;
      let header = 1;
      let payload = 0;
      let children = 0;
      if (token <= 0x7f || token >= 0xe0 || token === 0xc0 || token === 0xc2 || token === 0xc3) {
        // fixint, nil, booleans: header only
      } else if (token <= 0x8f) {
        children = (token & 0x0f) * 2;
      } else if (token <= 0x9f) {
        children = token & 0x0f;
      } else if (token <= 0xbf) {
        payload = token & 0x1f;
      } else {
        switch (token) {
          case 0xc1:
            return this.stop(pos, pending, ScanResult.InvalidByte);
          case 0xc4: case 0xd9: header = 2; break;
          case 0xc5: case 0xda: header = 3; break;
          case 0xc6: case 0xdb: header = 5; break;
          case 0xc7: header = 3; break;
          case 0xc8: header = 4; break;
          case 0xc9: header = 6; break;
          case 0xca: case 0xce: case 0xd2: header = 5; break;
          case 0xcb: case 0xcf: case 0xd3: header = 9; break;
          case 0xcc: case 0xd0: header = 2; break;
          case 0xcd: case 0xd1: header = 3; break;
          case 0xd4: header = 2; payload = 1; break;
          case 0xd5: header = 2; payload = 2; break;
          case 0xd6: header = 2; payload = 4; break;
          case 0xd7: header = 2; payload = 8; break;
          case 0xd8: header = 2; payload = 16; break;
          case 0xdc: case 0xde: header = 3; break;
          case 0xdd: case 0xdf: header = 5; break;
        }
        if (pos + header > end) {
          if (pos + header > limit) return this.stop(pos, pending, ScanResult.TooLarge);
          return this.stop(pos, pending, ScanResult.NeedMore);
        }
        switch (token) {
          case 0xc4: case 0xd9: case 0xc7: payload = buf[pos + 1]!; break;
          case 0xc5: case 0xda: case 0xc8: payload = (buf[pos + 1]! << 8) | buf[pos + 2]!; break;
          case 0xc6: case 0xdb: case 0xc9: payload = readU32(buf, pos + 1); break;
          case 0xdc: children = (buf[pos + 1]! << 8) | buf[pos + 2]!; break;
          case 0xdd: children = readU32(buf, pos + 1); break;
          case 0xde: children = ((buf[pos + 1]! << 8) | buf[pos + 2]!) * 2; break;
          case 0xdf: children = readU32(buf, pos + 1) * 2; break;
        }
        // ext type byte: last header byte of ext8/16/32 and fixext
        if ((token >= 0xc7 && token <= 0xc9) || (token >= 0xd4 && token <= 0xd8)) {
          const type = buf[pos + header - 1];
          this.usesExtension = true;
          this.values += EXTENSION_VALUE_COST - 1;
          if (type === MSGPACKR_RECORDS_EXT || type === MSGPACKR_BUNDLED_STRINGS_EXT || type === MSGPACKR_BIGINT_EXT) {
            this.usesPrivateExtension = true;
          }
        }
      }
      const next = pos + header + payload;
      if (next > limit) return this.stop(pos, pending, ScanResult.TooLarge);
      if (next > end) return this.stop(pos, pending, ScanResult.NeedMore);
      pos = next;
      pending += children - 1;
      this.values++;
    }
    this.position = pos;
    this.pending = 0;
    return ScanResult.Complete;
  }

  private stop(pos: number, pending: number, result: ScanResult): ScanResult {
    this.position = pos;
    this.pending = pending;
    return result;
  }
}

function readU32(buf: Uint8Array, at: number): number {
  return buf[at]! * 0x1000000 + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
}
