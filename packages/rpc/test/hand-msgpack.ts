/**
 * A deliberately independent MessagePack encoder/decoder written from the spec, byte by byte, used
 * by the interop tests as "some other msgpack-rpc implementation". It shares no code with msgpackr
 * or @xenipc/rpc.
 */
export type HandValue = null | boolean | number | string | HandValue[] | { [key: string]: HandValue };

export function handEncode(value: HandValue): number[] {
  const out: number[] = [];
  const u16 = (n: number): void => { out.push((n >> 8) & 0xff, n & 0xff); };
  const u32 = (n: number): void => { out.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff); };
  const write = (v: HandValue): void => {
    if (v === null) out.push(0xc0);
    else if (v === true) out.push(0xc3);
    else if (v === false) out.push(0xc2);
    else if (typeof v === 'number') {
      if (!Number.isInteger(v)) {
        const bytes = new Uint8Array(new Float64Array([v]).buffer).reverse(); // big-endian
        out.push(0xcb, ...bytes);
      } else if (v >= 0 && v < 128) out.push(v);
      else if (v < 0 && v >= -32) out.push(0x100 + v);
      else if (v >= 0 && v < 256) out.push(0xcc, v);
      else if (v >= 0 && v < 65536) { out.push(0xcd); u16(v); }
      else if (v >= 0 && v <= 0xffffffff) { out.push(0xce); u32(v); }
      else if (v >= -128 && v < 0) out.push(0xd0, v & 0xff);
      else if (v >= -(2 ** 31) && v < 0) { out.push(0xd2); u32(v >>> 0); }
      else throw new Error('hand encoder: integer out of range');
    } else if (typeof v === 'string') {
      const bytes = [...Buffer.from(v, 'utf8')];
      if (bytes.length < 32) out.push(0xa0 | bytes.length);
      else if (bytes.length < 256) out.push(0xd9, bytes.length);
      else { out.push(0xda); u16(bytes.length); }
      out.push(...bytes);
    } else if (Array.isArray(v)) {
      if (v.length < 16) out.push(0x90 | v.length);
      else { out.push(0xdc); u16(v.length); }
      v.forEach((item) => write(item));
    } else {
      const keys = Object.keys(v);
      if (keys.length < 16) out.push(0x80 | keys.length);
      else { out.push(0xde); u16(keys.length); }
      for (const key of keys) { write(key); write(v[key]!); }
    }
  };
  write(value);
  return out;
}

/** Decode one value at `at`; returns the value and the offset after it, or undefined if incomplete. */
export function handDecode(bytes: Uint8Array, at: number): { value: HandValue; next: number } | undefined {
  let pos = at;
  const need = (n: number): void => { if (pos + n > bytes.length) throw new RangeError('incomplete'); };
  const uint = (n: number): number => {
    need(n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + bytes[pos++]!;
    return v;
  };
  const sint = (n: number): number => {
    const v = uint(n);
    return v >= 2 ** (8 * n - 1) ? v - 2 ** (8 * n) : v;
  };
  const str = (n: number): string => { need(n); const s = Buffer.from(bytes.subarray(pos, pos + n)).toString('utf8'); pos += n; return s; };
  const arr = (n: number): HandValue[] => Array.from({ length: n }, () => read());
  const map = (n: number): { [key: string]: HandValue } => {
    const o: { [key: string]: HandValue } = {};
    for (let i = 0; i < n; i++) { const k = read(); o[String(k)] = read(); }
    return o;
  };
  const read = (): HandValue => {
    need(1);
    const t = bytes[pos++]!;
    if (t < 0x80) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t < 0x90) return map(t & 0x0f);
    if (t < 0xa0) return arr(t & 0x0f);
    if (t < 0xc0) return str(t & 0x1f);
    switch (t) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xca: { need(4); const v = Buffer.from(bytes.subarray(pos, pos + 4)).readFloatBE(0); pos += 4; return v; }
      case 0xcb: { need(8); const v = Buffer.from(bytes.subarray(pos, pos + 8)).readDoubleBE(0); pos += 8; return v; }
      case 0xcc: return uint(1);
      case 0xcd: return uint(2);
      case 0xce: return uint(4);
      case 0xcf: return uint(8);
      case 0xd0: return sint(1);
      case 0xd1: return sint(2);
      case 0xd2: return sint(4);
      case 0xd9: return str(uint(1));
      case 0xda: return str(uint(2));
      case 0xdb: return str(uint(4));
      case 0xdc: return arr(uint(2));
      case 0xdd: return arr(uint(4));
      case 0xde: return map(uint(2));
      case 0xdf: return map(uint(4));
      default: throw new Error(`hand decoder: unsupported type byte 0x${t.toString(16)}`);
    }
  };
  try {
    const value = read();
    return { value, next: pos };
  } catch (error) {
    if (error instanceof RangeError && error.message === 'incomplete') return undefined;
    throw error;
  }
}

/** Collects hand-decoded messages from a byte stream. */
export class HandMessageReader {
  private pending = new Uint8Array(0);
  readonly messages: HandValue[] = [];
  private waiters: (() => void)[] = [];

  push(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.pending.length + chunk.length);
    joined.set(this.pending, 0);
    joined.set(chunk, this.pending.length);
    let at = 0;
    for (;;) {
      const decoded = handDecode(joined, at);
      if (!decoded) break;
      this.messages.push(decoded.value);
      at = decoded.next;
    }
    this.pending = joined.slice(at);
    for (const wake of this.waiters.splice(0)) wake();
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<HandValue[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} messages, have ${this.messages.length}`);
      await new Promise<void>((resolve) => { this.waiters.push(resolve); setTimeout(resolve, 50); });
    }
    return this.messages.slice(0, count);
  }
}
