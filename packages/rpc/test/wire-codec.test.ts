/**
 * The peer's own MessagePack reader/writer against msgpackr (the fast path): the same JS values
 * for the same bytes, both ways, over random values; and the reader's bounds on hostile input.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { WireCodec } from '../src/wire/msgpack-codec.js';
import { WireDecoder, MAX_DEPTH } from '../src/wire/wire-decoder.js';
import { WireEncoder } from '../src/wire/wire-encoder.js';
import { seededRandom as random } from './seeded-random.js';

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 8 : 10));
  const int = (bits: number): number => Math.floor((next() - 0.5) * 2 ** bits);
  switch (pick) {
    case 0: return null;
    case 1: return next() < 0.5;
    case 2: return [int(6), int(9), int(17), int(33), int(50)][Math.floor(next() * 5)]! || 0;
    case 3: return (next() - 0.5) * 1e10;
    case 4: return Array.from({ length: Math.floor(next() * 40) }, () => String.fromCodePoint(Math.floor(next() * 0x2fff) + 0x20)).join('');
    case 5: return Uint8Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256));
    case 6: return 'x'.repeat(Math.floor(next() * 70_000));
    case 7: return BigInt(int(50)) * 1000n;
    case 8: return Array.from({ length: Math.floor(next() * 20) }, () => randomValue(next, depth + 1));
    default: {
      const map: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 20); i > 0; i--) map[`k${Math.floor(next() * 1000)}`] = randomValue(next, depth + 1);
      return map;
    }
  }
}

/** Byte arrays compared by content whatever their class (msgpackr gives Buffers for a Buffer input). */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'bigint') return Number(value) === Number(value) && BigInt(Number(value)) === value ? Number(value) : value;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

const WIRE = { useRecords: false, mapsAsObjects: true, encodeUndefinedAsNil: true, int64AsType: 'auto', structuredClone: false, copyBuffers: true } as const;

describe('own reader and writer agree with msgpackr', () => {
  it('1,000 random messages: each writer\'s bytes read the same through both readers', () => {
    const next = random(Number(process.env.XENIPC_FUZZ_SEED ?? 13));
    const packr = new Packr(WIRE as never);
    const codec = new WireCodec();
    const own = new WireEncoder(new Map());
    const decoder = new WireDecoder({ extensions: new Map(), unknownExtensions: 'keep' });
    for (let i = 0; i < 1000; i++) {
      const value = [0, i, 'method', [randomValue(next, 0)]];
      for (const bytes of [packr.pack(value), own.encode(value)]) {
        const fast = codec.decode(bytes, 0, bytes.length, false);
        const slow = decoder.decode(bytes, 0, bytes.length, false);
        expect(normalize(slow)).toEqual(normalize(fast));
        expect(normalize(slow)).toEqual(normalize(value));
      }
    }
  });

  it('renames a __proto__ key, as msgpackr does, so nothing reaches Object.prototype', () => {
    const decoder = new WireDecoder({ extensions: new Map(), unknownExtensions: 'keep' });
    // {"__proto__": {"polluted": 1}}
    const bytes = Uint8Array.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa8, ...Buffer.from('polluted'), 0x01]);
    const map = decoder.decode(bytes, 0, bytes.length, false) as Record<string, unknown>;
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
    expect(map.__proto_).toEqual({ polluted: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it(`refuses nesting deeper than ${MAX_DEPTH} with an error, not a stack overflow`, () => {
    const decoder = new WireDecoder({ extensions: new Map(), unknownExtensions: 'keep' });
    const bytes = new Uint8Array(100_001).fill(0x91);
    bytes[100_000] = 0xc0;
    expect(() => decoder.decode(bytes, 0, bytes.length, false)).toThrow(`nesting deeper than ${MAX_DEPTH}`);
    const encoder = new WireEncoder(new Map());
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => encoder.encode(cyclic)).toThrow(RangeError);
  });

  it('cannot be made to allocate beyond the message by a header', () => {
    const decoder = new WireDecoder({ extensions: new Map(), unknownExtensions: 'keep' });
    for (const bytes of [[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0], [0xdf, 0x7f, 0xff, 0xff, 0xff, 0xc0], [0xc6, 0xff, 0xff, 0xff, 0xff]]) {
      const message = Uint8Array.from(bytes);
      expect(() => decoder.decode(message, 0, message.length, false)).toThrow(/longer than the message|past the message/);
    }
  });
});
