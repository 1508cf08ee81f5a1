import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MessageScanner, ScanResult } from '../src/wire/message-scanner.js';
import { StreamFramer } from '../src/transport/stream-framer.js';

const samples: unknown[] = [
  0, 127, -1, -32, -33, 255, 65535, 2 ** 32, -(2 ** 40), 1.5, null, true, false, '', 'a'.repeat(31), 'b'.repeat(32),
  'c'.repeat(300), 'd'.repeat(70_000), new Uint8Array(10), new Uint8Array(300), new Uint8Array(70_000),
  [], [1, [2, [3, [4]]]], Array.from({ length: 20 }, (_, i) => i), Array.from({ length: 70_000 }, () => 0),
  {}, { a: 1, b: { c: [1, 2] } }, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
  new Date(1_700_000_000_123), [0, 1, 'method', [{ x: 'y' }]],
];

function encode(value: unknown): Uint8Array {
  // standalone pack() emits standard MessagePack (records off)
  return pack(value);
}

describe('MessageScanner', () => {
  it('finds the exact end of every kind of value', () => {
    const scanner = new MessageScanner(1 << 24);
    for (const value of samples) {
      const bytes = encode(value);
      const padded = new Uint8Array(bytes.length + 3);
      padded.set(bytes, 0);
      scanner.begin(0);
      expect(scanner.scan(padded, padded.length)).toBe(ScanResult.Complete);
      expect(scanner.position).toBe(bytes.length);
    }
  });

  it('asks for more bytes at every possible cut, and resumes to the same end', () => {
    const scanner = new MessageScanner(1 << 24);
    for (const value of samples.filter((v) => encode(v).length < 400)) {
      const bytes = encode(value);
      for (let cut = 0; cut < bytes.length; cut++) {
        scanner.begin(0);
        expect(scanner.scan(bytes, cut)).toBe(ScanResult.NeedMore);
        expect(scanner.scan(bytes, bytes.length)).toBe(ScanResult.Complete);
        expect(scanner.position).toBe(bytes.length);
      }
    }
  });

  it('reports 0xc1, oversized values (before their payload arrives) and msgpackr records', () => {
    const scanner = new MessageScanner(100);
    scanner.begin(0);
    expect(scanner.scan(Uint8Array.of(0x92, 0x01, 0xc1), 3)).toBe(ScanResult.InvalidByte);
    scanner.begin(0);
    expect(scanner.scan(Uint8Array.of(0xdb, 0x00, 0x01, 0x00, 0x00), 5)).toBe(ScanResult.TooLarge);
    scanner.begin(0);
    expect(scanner.scan(Uint8Array.of(0xdd, 0x00, 0x00, 0x10, 0x00), 5)).toBe(ScanResult.TooLarge);
    scanner.begin(0);
    expect(scanner.scan(Uint8Array.of(0x91, 0xd4, 0x72, 0x00), 4)).toBe(ScanResult.Complete);
    expect(scanner.usesPrivateExtension).toBe(true);
    scanner.begin(0);
    expect(scanner.scan(Uint8Array.of(0xc7, 0x04, 0x62, 0, 0, 0, 0), 7)).toBe(ScanResult.Complete);
    expect(scanner.usesPrivateExtension).toBe(true);
    scanner.begin(0);
    expect(scanner.scan(Uint8Array.of(0xd6, 0xff, 0, 0, 0, 0), 6)).toBe(ScanResult.Complete); // timestamp: standard
    expect(scanner.usesPrivateExtension).toBe(false);
  });
});

describe('StreamFramer', () => {
  function collect(maxBytes = 1 << 24) {
    const messages: unknown[] = [];
    const malformed: string[] = [];
    const lost: string[] = [];
    const framer = new StreamFramer(maxBytes, {
      message: (buf, start, end) => messages.push(Buffer.from(buf.subarray(start, end)).toString('hex')),
      malformed: (kind) => malformed.push(kind),
    }, (detail) => lost.push(detail));
    return { framer, messages, malformed, lost };
  }

  it('splits concatenated messages delivered in random chunk sizes', () => {
    const parts = samples.map(encode);
    const stream = Buffer.concat(parts);
    for (let seed = 1; seed < 30; seed++) {
      const { framer, messages } = collect();
      let at = 0;
      let rnd = seed;
      while (at < stream.length) {
        rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
        const size = 1 + (rnd % (seed < 10 ? 7 : 40_000));
        framer.push(stream.subarray(at, at + size));
        at += size;
      }
      expect(messages).toEqual(parts.map((p) => Buffer.from(p).toString('hex')));
      expect(framer.bufferedBytes).toBe(0);
    }
  });

  it('holds messages while paused and delivers them on resume', () => {
    const { framer, messages } = collect();
    framer.pause();
    framer.push(Buffer.concat([encode(1), encode(2)]));
    framer.push(encode(3));
    expect(messages).toEqual([]);
    framer.resume();
    expect(messages).toEqual(['01', '02', '03']);
  });

  it('stops for good when framing is lost, and skips records messages', () => {
    const { framer, messages, malformed, lost } = collect(64);
    framer.push(Uint8Array.of(0x01, 0x91, 0xd4, 0x72, 0x00, 0x02, 0xc1, 0x03));
    framer.push(Uint8Array.of(0x04));
    expect(messages).toEqual(['01', '02']);
    expect(malformed).toEqual(['private-extension']);
    expect(lost).toHaveLength(1);
    const big = collect(64);
    big.framer.push(encode('x'.repeat(100)).subarray(0, 3));
    expect(big.lost[0]).toMatch(/larger than 64/);
  });
});
