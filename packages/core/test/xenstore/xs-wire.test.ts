import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  encodeXsMessage,
  nulTerminated,
  splitNul,
  XS_HEADER_SIZE,
  XS_PAYLOAD_MAX,
  XsFrameDecoder,
  XsMessageType,
  XsProtocolError,
} from '@xenipc/core/backend-kit';

function header(type: number, reqId: number, txId: number, length: number): Buffer {
  const b = Buffer.alloc(XS_HEADER_SIZE);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(reqId, 4);
  b.writeUInt32LE(txId, 8);
  b.writeUInt32LE(length, 12);
  return b;
}

describe('xs_wire codec', () => {
  it('encodes the 16-byte little-endian header followed by the payload', () => {
    const frame = encodeXsMessage(XsMessageType.WRITE, 7, 3, Buffer.from('a/b\0v'));
    expect([...frame.subarray(0, 16)]).toEqual([11, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0]);
    expect(frame.subarray(16).toString()).toBe('a/b\0v');
  });

  it('reassembles messages split at every possible byte boundary, and several per chunk', () => {
    const frames = Buffer.concat([
      encodeXsMessage(XsMessageType.READ, 1, 0, nulTerminated('data/x')),
      encodeXsMessage(XsMessageType.DIRECTORY, 2, 9, nulTerminated('a', 'b')),
      encodeXsMessage(XsMessageType.TRANSACTION_START, 3, 0, Buffer.alloc(0)),
    ]);
    for (let cut = 0; cut <= frames.length; cut++) {
      const decoder = new XsFrameDecoder();
      const got = [...decoder.push(frames.subarray(0, cut)), ...decoder.push(frames.subarray(cut))];
      expect(got.map((m) => [m.type, m.reqId, m.txId, m.payload.toString()])).toEqual([
        [2, 1, 0, 'data/x\0'],
        [1, 2, 9, 'a\0b\0'],
        [6, 3, 0, ''],
      ]);
      expect(decoder.bufferedBytes).toBe(0);
    }
    const decoder = new XsFrameDecoder();
    const oneByOne = [...frames].flatMap((byte) => decoder.push(Buffer.of(byte)));
    expect(oneByOne).toHaveLength(3);
  });

  it('accepts a payload of exactly XENSTORE_PAYLOAD_MAX and rejects one byte more, both ways', () => {
    const decoder = new XsFrameDecoder();
    const max = encodeXsMessage(XsMessageType.WRITE, 1, 0, Buffer.alloc(XS_PAYLOAD_MAX, 0x61));
    expect(decoder.push(max)).toHaveLength(1);
    expect(() => encodeXsMessage(XsMessageType.WRITE, 1, 0, Buffer.alloc(XS_PAYLOAD_MAX + 1))).toThrow(XsProtocolError);
    // Rejected from the header alone, before the payload arrives (no buffering of a huge frame).
    expect(() => new XsFrameDecoder().push(header(XsMessageType.WRITE, 1, 0, XS_PAYLOAD_MAX + 1))).toThrow(/4097/);
    expect(() => new XsFrameDecoder().push(header(XsMessageType.WRITE, 1, 0, 0xffff_ffff))).toThrow(XsProtocolError);
  });

  it('a garbage header is a protocol error and poisons the decoder, never a crash', () => {
    const decoder = new XsFrameDecoder();
    expect(() => decoder.push(header(0xdead_beef, 1, 0, 0))).toThrow(/unknown xenstore message type/);
    expect(() => decoder.push(encodeXsMessage(XsMessageType.READ, 1, 0, nulTerminated('x')))).toThrow(XsProtocolError);
  });

  it('random bytes either decode or throw XsProtocolError, nothing else', () => {
    for (let i = 0; i < 2000; i++) {
      const decoder = new XsFrameDecoder();
      try {
        for (const m of decoder.push(randomBytes(1 + (i % 64)))) expect(m.payload.length).toBeLessThanOrEqual(XS_PAYLOAD_MAX);
      } catch (err) {
        expect(err).toBeInstanceOf(XsProtocolError);
      }
    }
  });

  it('splits NUL-separated strings; a trailing NUL adds no empty element', () => {
    expect(splitNul(Buffer.from('a\0b\0'))).toEqual(['a', 'b']);
    expect(splitNul(Buffer.from('a\0b'))).toEqual(['a', 'b']);
    expect(splitNul(Buffer.alloc(0))).toEqual([]);
    expect(splitNul(Buffer.from('\0'))).toEqual(['']);
  });
});
