/**
 * The peer's own MessagePack writer, used where msgpackr cannot serve per peer: messages holding an
 * RpcExtension, and every message of a peer whose registry has an `encode` (see msgpack-codec.ts).
 * Output is standard MessagePack and matches the msgpackr fast path value for value: undefined and
 * functions as nil, byte views as bin, Map and plain objects as maps, Set as an array, Date as
 * the timestamp ext (-1), objects with toJSON() as what it returns; an Error as
 * [name, message, cause] and a RegExp as [source, flags] (as msgpackr writes them without its
 * private extensions). Integers beyond 32 bits are written as int64/uint64 (msgpackr: float64).
 */
import { RpcExtension, type ExtensionTable, type RpcExtensionCodec } from './rpc-extension.js';
import { MAX_DEPTH } from './wire-decoder.js';

const INITIAL_BYTES = 8192;
const utf8 = new TextEncoder();
const TIMESTAMP_TYPE = -1;

export class WireEncoder {
  private buf = new Uint8Array(INITIAL_BYTES);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private depth = 0;
  private readonly encoders: RpcExtensionCodec[];

  constructor(extensions: ExtensionTable) {
    this.encoders = [...extensions.values()].filter((codec) => codec.encode !== undefined);
  }

  /** Encode one value; the result is a fresh Uint8Array the caller owns. */
  encode(value: unknown): Uint8Array {
    this.pos = 0;
    this.depth = 0;
    this.write(value);
    const out = this.buf.slice(0, this.pos);
    if (this.buf.length > 4 * 1024 * 1024) this.grow(0, INITIAL_BYTES);
    return out;
  }

  private grow(extra: number, size = 0): void {
    const needed = this.pos + extra;
    if (size === 0 && needed <= this.buf.length) return;
    const next = new Uint8Array(size !== 0 ? size : Math.max(needed, this.buf.length * 2));
    if (size === 0) next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private byte(value: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = value;
  }

  private bytes(data: Uint8Array): void {
    this.grow(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  private header(small: number, smallMax: number, codes: readonly [number, number, number] | readonly [number, number], length: number): void {
    this.grow(5);
    const buf = this.buf;
    if (small >= 0 && length <= smallMax) {
      buf[this.pos++] = small | length;
    } else if (codes.length === 3 && length <= 0xff) {
      buf[this.pos++] = codes[0]; buf[this.pos++] = length;
    } else if (length <= 0xffff) {
      buf[this.pos++] = codes[codes.length - 2]!; this.view.setUint16(this.pos, length); this.pos += 2;
    } else {
      buf[this.pos++] = codes[codes.length - 1]!; this.view.setUint32(this.pos, length); this.pos += 4;
    }
  }

  private write(value: unknown): void {
    switch (typeof value) {
      case 'undefined': case 'function': this.byte(0xc0); return;
      case 'boolean': this.byte(value ? 0xc3 : 0xc2); return;
      case 'number': this.writeNumber(value); return;
      case 'bigint': this.writeBigInt(value); return;
      case 'string': this.writeString(value); return;
      case 'symbol': throw new TypeError('a symbol cannot be encoded as MessagePack');
      default: break;
    }
    if (value === null) { this.byte(0xc0); return; }
    if (++this.depth > MAX_DEPTH) throw new RangeError(`value nested deeper than ${MAX_DEPTH} (cyclic?)`);
    this.writeObject(value as object);
    this.depth--;
  }

  private writeNumber(value: number): void {
    this.grow(9);
    const buf = this.buf;
    if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) {
      if (value >= 0) {
        if (value < 0x80) buf[this.pos++] = value;
        else if (value <= 0xff) { buf[this.pos++] = 0xcc; buf[this.pos++] = value; }
        else if (value <= 0xffff) { buf[this.pos++] = 0xcd; this.view.setUint16(this.pos, value); this.pos += 2; }
        else if (value <= 0xffffffff) { buf[this.pos++] = 0xce; this.view.setUint32(this.pos, value); this.pos += 4; }
        else { buf[this.pos++] = 0xcf; this.view.setBigUint64(this.pos, BigInt(value)); this.pos += 8; }
      } else if (value >= -32) buf[this.pos++] = value + 0x100;
      else if (value >= -0x80) { buf[this.pos++] = 0xd0; this.view.setInt8(this.pos, value); this.pos += 1; }
      else if (value >= -0x8000) { buf[this.pos++] = 0xd1; this.view.setInt16(this.pos, value); this.pos += 2; }
      else if (value >= -0x80000000) { buf[this.pos++] = 0xd2; this.view.setInt32(this.pos, value); this.pos += 4; }
      else { buf[this.pos++] = 0xd3; this.view.setBigInt64(this.pos, BigInt(value)); this.pos += 8; }
      return;
    }
    buf[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  private writeBigInt(value: bigint): void {
    this.grow(9);
    if (value >= -(2n ** 63n) && value < 2n ** 63n) {
      this.buf[this.pos++] = 0xd3; this.view.setBigInt64(this.pos, value);
    } else if (value > 0n && value < 2n ** 64n) {
      this.buf[this.pos++] = 0xcf; this.view.setBigUint64(this.pos, value);
    } else {
      throw new RangeError('a bigint beyond 64 bits cannot be encoded as MessagePack');
    }
    this.pos += 8;
  }

  private writeString(value: string): void {
    // at most 3 bytes per UTF-16 unit
    const max = value.length * 3;
    this.grow(5 + max);
    const headerAt = this.pos;
    const headerBytes = max < 32 ? 1 : max <= 0xff ? 2 : max <= 0xffff ? 3 : 5;
    const { written } = utf8.encodeInto(value, this.buf.subarray(headerAt + headerBytes));
    const length = written;
    const actualHeader = length < 32 ? 1 : length <= 0xff ? 2 : length <= 0xffff ? 3 : 5;
    if (actualHeader !== headerBytes) this.buf.copyWithin(headerAt + actualHeader, headerAt + headerBytes, headerAt + headerBytes + length);
    this.header(0xa0, 31, [0xd9, 0xda, 0xdb], length);
    this.pos = headerAt + actualHeader + length;
  }

  private writeBin(data: Uint8Array): void {
    this.header(-1, -1, [0xc4, 0xc5, 0xc6], data.length);
    this.bytes(data);
  }

  private writeExt(type: number, data: Uint8Array): void {
    const length = data.length;
    this.grow(6);
    const fixed = length === 1 ? 0xd4 : length === 2 ? 0xd5 : length === 4 ? 0xd6 : length === 8 ? 0xd7 : length === 16 ? 0xd8 : 0;
    if (fixed !== 0) this.buf[this.pos++] = fixed;
    else this.header(-1, -1, [0xc7, 0xc8, 0xc9], length);
    this.view.setInt8(this.pos++, type);
    this.bytes(data);
  }

  private writeArray(items: ArrayLike<unknown>): void {
    this.header(0x90, 15, [0xdc, 0xdd], items.length);
    for (let i = 0; i < items.length; i++) this.write(items[i]);
  }

  private writeObject(value: object): void {
    if (Array.isArray(value)) { this.writeArray(value); return; }
    if (value instanceof Uint8Array) { this.writeBin(value); return; }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') { this.writeToJSON(value); return; }
      this.writeMap(value as Record<string, unknown>);
      return;
    }
    if (value instanceof RpcExtension) { this.writeExt(value.type, value.data); return; }
    for (const codec of this.encoders) {
      const data = codec.encode!(value);
      if (data !== undefined) {
        if (!(data instanceof Uint8Array)) throw new TypeError(`extension type ${codec.type} encode() returned neither a Uint8Array nor undefined`);
        this.writeExt(codec.type, data);
        return;
      }
    }
    if (ArrayBuffer.isView(value)) { this.writeBin(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)); return; }
    if (value instanceof ArrayBuffer) { this.writeBin(new Uint8Array(value)); return; }
    if (value instanceof Date) { this.writeDate(value); return; }
    if (value instanceof Map) {
      this.header(0x80, 15, [0xde, 0xdf], value.size);
      for (const [key, entry] of value) { this.write(key); this.write(entry); }
      return;
    }
    if (value instanceof Set) { this.writeArray([...value]); return; }
    if (value instanceof Error) { this.writeArray([value.name, value.message, (value as { cause?: unknown }).cause]); return; }
    if (value instanceof RegExp) { this.writeArray([value.source, value.flags]); return; }
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') { this.writeToJSON(value); return; }
    this.writeMap(value as Record<string, unknown>);
  }

  private writeToJSON(value: object): void {
    const json: unknown = (value as { toJSON(): unknown }).toJSON();
    if (json === value) this.writeMap(value as Record<string, unknown>);
    else this.write(json);
  }

  private writeMap(value: Record<string, unknown>): void {
    const keys = Object.keys(value);
    this.header(0x80, 15, [0xde, 0xdf], keys.length);
    for (const key of keys) { this.writeString(key); this.write(value[key]); }
  }

  private writeDate(date: Date): void {
    const ms = date.getTime();
    if (Number.isNaN(ms)) { this.byte(0xc0); return; }
    const seconds = Math.floor(ms / 1000);
    const nanoseconds = (ms - seconds * 1000) * 1e6;
    const data = new Uint8Array(nanoseconds === 0 && seconds >= 0 && seconds <= 0xffffffff ? 4 : seconds >= 0 && seconds < 2 ** 34 ? 8 : 12);
    const view = new DataView(data.buffer);
    if (data.length === 4) view.setUint32(0, seconds);
    else if (data.length === 8) {
      view.setUint32(0, nanoseconds * 4 + Math.floor(seconds / 0x100000000));
      view.setUint32(4, seconds >>> 0);
    } else {
      view.setUint32(0, nanoseconds);
      view.setBigInt64(4, BigInt(seconds));
    }
    this.writeExt(TIMESTAMP_TYPE, data);
  }
}
