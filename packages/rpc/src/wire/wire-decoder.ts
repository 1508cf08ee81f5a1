/**
 * The peer's own MessagePack reader, used where msgpackr cannot serve per peer: messages holding
 * extension values (msgpackr's ext table is process-global and defines types 0, 0x65, 0x73, ...
 * its own way) and peers that receive str as raw bytes. It produces the same JS values as the
 * msgpackr fast path for everything else (see msgpack-codec.ts): maps as plain objects with a
 * `__proto__` key renamed `__proto_`, int64 as number when within +-2^53 else bigint, bin copied.
 *
 * Input has passed MessageScanner: exactly one complete value, within maxMessageBytes, no
 * msgpackr-private ext type. Every step costs time linear in the bytes it consumes (no value is
 * expanded beyond its bytes except through a registered codec), and nesting is bounded by
 * MAX_DEPTH, so decode cost is bounded by message size.
 */
import { boundedText } from '../errors/argument-errors.js';
import { RpcExtension, type ExtensionTable } from './rpc-extension.js';

/** Deepest array/map nesting accepted (msgpackr's recursive reader has a similar, stack-sized, limit). */
export const MAX_DEPTH = 1000;
const TIMESTAMP_TYPE = -1;
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const TWO_53 = 2n ** 53n;
/**
 * A copy of `buf[start, end)` as a plain Uint8Array. Not `buf.slice()`: on a Buffer (what a
 * socket delivers) that is a view into the transport's receive buffer, not a copy.
 */
function copyBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const copy = new Uint8Array(end - start);
  copy.set(buf.subarray(start, end));
  return copy;
}

export interface WireDecoderOptions {
  extensions: ExtensionTable;
  /** What an ext type without a codec becomes: an RpcExtension ('keep') or a decode error ('error'). */
  unknownExtensions: 'keep' | 'error';
}

/** A decode failure; `message` never holds more than a few dozen characters of peer data. */
export class WireDecodeError extends Error {
  override readonly name = 'WireDecodeError';
}

export class WireDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private pos = 0;
  private end = 0;
  private raw = false;
  private depth = 0;

  constructor(private readonly options: WireDecoderOptions) {}

  /**
   * Decode the value in `buf[start, end)`. With `rawStrings`, str values inside the payload of an
   * RPC message (request params, response result, notification params) come back as Uint8Array;
   * the envelope (type, msgid, method name, error slot) and map keys are always strings.
   */
  decode(buf: Uint8Array, start: number, end: number, rawStrings: boolean): unknown {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
    this.depth = 0;
    this.raw = false;
    try {
      const value = rawStrings ? this.readEnvelope() : this.read();
      if (this.pos !== end) throw new WireDecodeError(`${end - this.pos} bytes after the value`);
      return value;
    } finally {
      this.buf = new Uint8Array(0);
      this.view = new DataView(this.buf.buffer);
    }
  }

  /** An RPC envelope: the array's payload element is read with raw strings, the rest as usual. */
  private readEnvelope(): unknown {
    const token = this.buf[this.pos]!;
    let length: number;
    if (token >= 0x90 && token <= 0x9f) { length = token & 0x0f; this.pos++; } else return this.read();
    const items: unknown[] = new Array(length);
    let rawAt = -1;
    for (let i = 0; i < length; i++) {
      if (i === 1) {
        const kind = items[0];
        rawAt = kind === 0 || kind === 1 ? 3 : kind === 2 ? 2 : -1;
      }
      this.raw = i === rawAt;
      items[i] = this.read();
    }
    this.raw = false;
    return items;
  }

  private need(count: number): void {
    if (this.pos + count > this.end) throw new WireDecodeError('value ends past the message');
  }

  private read(): unknown {
    this.need(1);
    const token = this.buf[this.pos++]!;
    if (token <= 0x7f) return token;
    if (token >= 0xe0) return token - 0x100;
    if (token <= 0x8f) return this.readMap(token & 0x0f);
    if (token <= 0x9f) return this.readArray(token & 0x0f);
    if (token <= 0xbf) return this.readStr(token & 0x1f);
    const view = this.view;
    switch (token) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.readBin(this.readUint(1));
      case 0xc5: return this.readBin(this.readUint(2));
      case 0xc6: return this.readBin(this.readUint(4));
      case 0xc7: return this.readExt(this.readUint(1));
      case 0xc8: return this.readExt(this.readUint(2));
      case 0xc9: return this.readExt(this.readUint(4));
      case 0xca: { this.need(4); const v = view.getFloat32(this.pos); this.pos += 4; return v; }
      case 0xcb: { this.need(8); const v = view.getFloat64(this.pos); this.pos += 8; return v; }
      case 0xcc: return this.readUint(1);
      case 0xcd: return this.readUint(2);
      case 0xce: return this.readUint(4);
      case 0xcf: { this.need(8); const v = view.getBigUint64(this.pos); this.pos += 8; return v <= TWO_53 ? Number(v) : v; }
      case 0xd0: { this.need(1); const v = view.getInt8(this.pos); this.pos += 1; return v; }
      case 0xd1: { this.need(2); const v = view.getInt16(this.pos); this.pos += 2; return v; }
      case 0xd2: { this.need(4); const v = view.getInt32(this.pos); this.pos += 4; return v; }
      case 0xd3: { this.need(8); const v = view.getBigInt64(this.pos); this.pos += 8; return v <= TWO_53 && v >= -TWO_53 ? Number(v) : v; }
      case 0xd4: return this.readExt(1);
      case 0xd5: return this.readExt(2);
      case 0xd6: return this.readExt(4);
      case 0xd7: return this.readExt(8);
      case 0xd8: return this.readExt(16);
      case 0xd9: return this.readStr(this.readUint(1));
      case 0xda: return this.readStr(this.readUint(2));
      case 0xdb: return this.readStr(this.readUint(4));
      case 0xdc: return this.readArray(this.readUint(2));
      case 0xdd: return this.readArray(this.readUint(4));
      case 0xde: return this.readMap(this.readUint(2));
      case 0xdf: return this.readMap(this.readUint(4));
      default: throw new WireDecodeError(`byte 0x${token.toString(16)} cannot start a value`);
    }
  }

  private readUint(bytes: 1 | 2 | 4): number {
    this.need(bytes);
    const buf = this.buf;
    const at = this.pos;
    this.pos += bytes;
    if (bytes === 1) return buf[at]!;
    if (bytes === 2) return (buf[at]! << 8) | buf[at + 1]!;
    return buf[at]! * 0x1000000 + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new WireDecodeError(`nesting deeper than ${MAX_DEPTH}`);
  }

  private readArray(length: number): unknown[] {
    // every element takes at least one byte: a hostile length cannot allocate beyond the message
    if (length > this.end - this.pos) throw new WireDecodeError('array longer than the message');
    this.enter();
    const items: unknown[] = new Array(length);
    for (let i = 0; i < length; i++) items[i] = this.read();
    this.depth--;
    return items;
  }

  private readMap(length: number): Record<string, unknown> {
    if (length * 2 > this.end - this.pos) throw new WireDecodeError('map longer than the message');
    this.enter();
    const map: Record<string, unknown> = {};
    const raw = this.raw;
    for (let i = 0; i < length; i++) {
      // keys are always strings, even when str values are received raw
      this.raw = false;
      const key = this.read();
      this.raw = raw;
      let name: string;
      if (typeof key === 'string') name = key;
      else if (typeof key === 'number' || typeof key === 'boolean' || key === null || typeof key === 'bigint') name = String(key);
      else throw new WireDecodeError('map key is not a string or number');
      // as msgpackr: a `__proto__` key must not reach the object's prototype
      map[name === '__proto__' ? '__proto_' : name] = this.read();
    }
    this.depth--;
    return map;
  }

  private readStr(length: number): string | Uint8Array {
    this.need(length);
    const start = this.pos;
    this.pos += length;
    if (this.raw) return copyBytes(this.buf, start, start + length);
    const buf = this.buf;
    if (length < 16) {
      // short ASCII (method names, map keys) without a TextDecoder call
      let text = '';
      for (let i = start; i < start + length; i++) {
        const byte = buf[i]!;
        if (byte >= 0x80) return utf8.decode(buf.subarray(start, start + length));
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return utf8.decode(buf.subarray(start, start + length));
  }

  private readBin(length: number): Uint8Array {
    this.need(length);
    const start = this.pos;
    this.pos += length;
    // a copy: the transport reuses its receive buffer
    return copyBytes(this.buf, start, start + length);
  }

  private readExt(length: number): unknown {
    this.need(1 + length);
    const type = this.view.getInt8(this.pos);
    const start = this.pos + 1;
    this.pos = start + length;
    const data = copyBytes(this.buf, start, start + length);
    const codec = this.options.extensions.get(type);
    if (codec !== undefined) {
      try {
        return codec.decode(data);
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        throw new WireDecodeError(`extension type ${type} codec failed: ${boundedText(text, 120)}`, { cause: error });
      }
    }
    if (type === TIMESTAMP_TYPE) return decodeTimestamp(data);
    if (this.options.unknownExtensions === 'error') throw new WireDecodeError(`unknown extension type ${type}`);
    return new RpcExtension(type, data);
  }
}

/** The MessagePack timestamp (ext -1, 4/8/12 bytes) as a Date (millisecond precision). */
function decodeTimestamp(data: Uint8Array): Date {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (data.length) {
    case 4: return new Date(view.getUint32(0) * 1000);
    case 8: {
      const high = view.getUint32(0);
      const nanoseconds = high >>> 2;
      const seconds = (high & 0x3) * 0x100000000 + view.getUint32(4);
      return new Date(seconds * 1000 + nanoseconds / 1e6);
    }
    case 12: return new Date(Number(view.getBigInt64(4)) * 1000 + view.getUint32(0) / 1e6);
    default: throw new WireDecodeError(`timestamp extension of ${data.length} bytes`);
  }
}
