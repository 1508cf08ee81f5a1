/**
 * Simple messages (nil, booleans, numbers, short strings, arrays of them) are written and read
 * without msgpackr. Which path a message takes must not show: the writer's bytes are msgpackr's,
 * the reader's values are msgpackr's, anything else goes the general way, and hostile bytes are
 * bounded before anything is allocated for them.
 */
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { WireCodec } from '../src/wire/msgpack-codec.js';
import { NOT_SIMPLE, SimpleMessageReader } from '../src/wire/simple-message-reader.js';
import { MAX_MESSAGE_BYTES, SimpleMessageWriter } from '../src/wire/simple-message-writer.js';
import { seededRandom } from './seeded-random.js';

const WIRE = { useRecords: false, mapsAsObjects: true, encodeUndefinedAsNil: true, int64AsType: 'auto', structuredClone: false, copyBuffers: true } as const;
const packr = new Packr(WIRE as never);
const unpackr = new Unpackr(WIRE as never);
const packed = (message: unknown): number[] => Array.from(packr.pack(message));

const EDGE_NUMBERS = [
  0, -0, 1, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000,
  -1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000, -0x80000001,
  0.5, -1.25, 1e300, -1e-300, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.EPSILON, NaN, Infinity, -Infinity,
];
const EDGE_STRINGS = [
  '', 'add', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(63), 'é', 'é'.repeat(15), 'é'.repeat(16), '中'.repeat(21),
  '中'.repeat(63), '😀', '😀'.repeat(31), '\ud800', 'a\udc00b', '\ud83d', '\u007f\u0080\u07ff\u0800\uffff',
];

function simpleValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth >= 3 ? 6 : 7));
  switch (pick) {
    case 0: return [null, undefined, true, false][Math.floor(next() * 4)];
    case 1: return EDGE_NUMBERS[Math.floor(next() * EDGE_NUMBERS.length)];
    case 2: return Math.floor((next() - 0.5) * 2 ** [7, 9, 17, 33][Math.floor(next() * 4)]!);
    case 3: return (next() - 0.5) * 1e6;
    case 4: return EDGE_STRINGS[Math.floor(next() * EDGE_STRINGS.length)];
    case 5: return Array.from({ length: Math.floor(next() * 40) }, () => String.fromCharCode(Math.floor(next() * 0x7f))).join('');
    default: return Array.from({ length: Math.floor(next() * 20) }, () => simpleValue(next, depth + 1));
  }
}

describe('SimpleMessageWriter', () => {
  it('writes the bytes msgpackr writes, for 3,000 random simple messages of each kind', () => {
    const next = seededRandom(Number(process.env.XENIPC_FUZZ_SEED ?? 7));
    const writer = new SimpleMessageWriter();
    let written = 0;
    for (let i = 0; i < 3000; i++) {
      const msgid = Math.floor(next() * 2 ** 32);
      const params = Array.from({ length: Math.floor(next() * 6) }, () => simpleValue(next, 1));
      const result = simpleValue(next, 0);
      const method = EDGE_STRINGS[i % EDGE_STRINGS.length]!;
      const request = writer.request(msgid, method, params);
      const response = writer.response(msgid, result);
      const notification = writer.notification(method, params);
      for (const [bytes, message] of [
        [request, [0, msgid, method, params]],
        [response, [1, msgid, null, result]],
        [notification, [2, method, params]],
      ] as const) {
        const expected = packed(message);
        // the only simple messages left to msgpackr are the long ones
        if (bytes === undefined) {
          expect(expected.length).toBeGreaterThan(MAX_MESSAGE_BYTES / 4);
          continue;
        }
        expect(Array.from(bytes)).toEqual(expected);
        written++;
      }
    }
    expect(written).toBeGreaterThan(8000);
  });

  it('leaves anything that is not simple to the general encoder', () => {
    const writer = new SimpleMessageWriter();
    class MyArray extends Array<number> {}
    const deep = [[[[[1]]]]];
    for (const value of [{}, { a: 1 }, new Map(), new Uint8Array(2), Buffer.from('x'), 1n, Symbol('s'), () => 1, new Date(0), 'x'.repeat(64), MyArray.from([1]), deep, Array.from({ length: 1100 }, () => 0)]) {
      expect(writer.response(1, value)).toBeUndefined();
      expect(writer.request(1, 'm', [value])).toBeUndefined();
    }
    expect(writer.request(1, 'm'.repeat(64), [])).toBeUndefined();
    expect(writer.notification('n', [deep])).toBeUndefined();
    // four levels are still simple; the fifth is not
    expect(writer.response(1, [[[[1]]]])).toBeDefined();
  });

  it('never overwrites a message it returned: 20,000 kept messages still hold their bytes', () => {
    const writer = new SimpleMessageWriter();
    const kept: [Uint8Array, number[]][] = [];
    for (let i = 0; i < 20_000; i++) {
      const params = [i, 'p'.repeat(i % 50), [i * 0.5]];
      const bytes = writer.request(i, 'keep', params)!;
      kept.push([bytes, packed([0, i, 'keep', params])]);
    }
    for (const [bytes, expected] of kept) expect(Array.from(bytes)).toEqual(expected);
  });

  it('the codec gives the same bytes whichever path encodes', () => {
    const codec = new WireCodec();
    const params = [1, 'two', [3.5, null], true];
    expect(Array.from(codec.encodeRequest(7, 'm', params))).toEqual(Array.from(codec.encode([0, 7, 'm', params])));
    expect(Array.from(codec.encodeResult(7, params))).toEqual(Array.from(codec.encode([1, 7, null, params])));
    expect(Array.from(codec.encodeNotification('n', params))).toEqual(Array.from(codec.encode([2, 'n', params])));
    // a map goes through msgpackr
    expect(Array.from(codec.encodeResult(7, { a: 1 }))).toEqual(packed([1, 7, null, { a: 1 }]));
  });
});

/** Random msgpack-rpc messages, simple or not (maps, bin, big ints, long or non-ASCII strings). */
function anyValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth >= 3 ? 9 : 11));
  switch (pick) {
    case 0: return { k: simpleValue(next, depth), __proto__x: 1 };
    case 1: return Uint8Array.from({ length: Math.floor(next() * 5) }, () => Math.floor(next() * 256));
    case 2: return 2 ** 40 + Math.floor(next() * 1000);
    case 3: return 'é'.repeat(Math.floor(next() * 40));
    case 4: return 'x'.repeat(60 + Math.floor(next() * 10));
    case 9:
    case 10: return Array.from({ length: Math.floor(next() * 6) }, () => anyValue(next, depth + 1));
    default: return simpleValue(next, depth);
  }
}

describe('SimpleMessageReader', () => {
  it('reads what msgpackr reads, and declines exactly what is not simple (5,000 random messages)', () => {
    const next = seededRandom(Number(process.env.XENIPC_FUZZ_SEED ?? 11));
    const reader = new SimpleMessageReader();
    const codec = new WireCodec();
    let simple = 0;
    let general = 0;
    for (let i = 0; i < 5000; i++) {
      const message = [0, i, 'call', Array.from({ length: Math.floor(next() * 5) }, () => anyValue(next, 1))];
      const bytes = new Uint8Array(packr.pack(message));
      const expected = unpackr.unpack(bytes);
      const value = reader.read(bytes, 0, bytes.length);
      if (value === NOT_SIMPLE) general++;
      else {
        simple++;
        expect(value).toEqual(expected);
      }
      expect(codec.decode(bytes, 0, bytes.length, false)).toEqual(expected);
    }
    expect(simple).toBeGreaterThan(500);
    expect(general).toBeGreaterThan(500);
  });

  it('reads every one-byte value as msgpackr does', () => {
    const reader = new SimpleMessageReader();
    for (let token = 0; token < 256; token++) {
      const bytes = Uint8Array.of(0x91, token);
      const value = reader.read(bytes, 0, 2);
      if (value === NOT_SIMPLE) continue;
      expect(value).toEqual(unpackr.unpack(bytes));
    }
  });

  it('reads only inside [start, end) of a larger buffer', () => {
    const reader = new SimpleMessageReader();
    const inner = packr.pack([1, 5, null, [1, 'ab']]);
    const buf = new Uint8Array(inner.length + 8).fill(0xc1);
    buf.set(inner, 4);
    expect(reader.read(buf, 4, 4 + inner.length)).toEqual([1, 5, null, [1, 'ab']]);
    // one byte short: truncated, so declined (the general decoder reports it)
    expect(reader.read(buf, 4, 3 + inner.length)).toBe(NOT_SIMPLE);
  });

  it('declines hostile lengths, truncated values, trailing bytes and non-ASCII text', () => {
    const reader = new SimpleMessageReader();
    const cases = [
      Uint8Array.of(0xdc, 0xff, 0xff, 0x01), // array16 of 65,535 items in 1 byte
      Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff), // array32: not simple
      Uint8Array.of(0x9f, 0x01), // fixarray of 15, one item
      Uint8Array.of(0xbf, 0x61), // fixstr of 31, one byte
      Uint8Array.of(0xd9, 0xff, 0x61), // str8 of 255
      Uint8Array.of(0xce, 0x01, 0x02), // uint32, 2 of 4 bytes
      Uint8Array.of(0xcb, 0x00), // float64, 1 of 8 bytes
      Uint8Array.of(0x91, 0x01, 0x02), // one value and a byte after it
      Uint8Array.of(0xa1, 0xc3), // a non-ASCII byte in a string
      Uint8Array.of(), // nothing
      Uint8Array.of(0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01), // deeper than the reader follows
    ];
    for (const bytes of cases) expect(reader.read(bytes, 0, bytes.length)).toBe(NOT_SIMPLE);
  });

  it('a truncated message fails through the codec as it always did', () => {
    const codec = new WireCodec();
    const bytes = new Uint8Array(packr.pack([0, 1, 'add', [1, 2]]));
    expect(() => codec.decode(bytes, 0, bytes.length - 1, false)).toThrow();
  });
});
