/**
 * FrameBuffer, the onFrame receive path's private buffer: frames come out intact whatever the
 * sizes of the ring reads, and a frame about the ring's size is copied out of the ring once,
 * never moved inside the buffer afterwards (that move would be a third copy of every message).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameBuffer } from '../src/frame-buffer.js';
import type { RingConsumer } from '../src/ring.js';

/** A byte stream of frames (u32 length + payload whose bytes are (frame index + offset) & 0xff). */
function frameStream(sizes: number[]): Uint8Array {
  const total = sizes.reduce((sum, size) => sum + 4 + size, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let at = 0;
  sizes.forEach((size, index) => {
    view.setUint32(at, size, true);
    for (let i = 0; i < size; i++) bytes[at + 4 + i] = (index + i) & 0xff;
    at += 4 + size;
  });
  return bytes;
}

type FakeConsumer = RingConsumer & { position: number; publishedAt: number[] };

/** Stands in for the ring: copyOut() hands out the stream in order; publish() records where. */
function fakeConsumer(stream: Uint8Array): FakeConsumer {
  const consumer = {
    position: 0,
    publishedAt: [] as number[],
    copyOut(dst: Uint8Array, dstOff: number, n: number): void {
      dst.set(stream.subarray(consumer.position, consumer.position + n), dstOff);
      consumer.position += n;
    },
    publish(): void {
      consumer.publishedAt.push(consumer.position);
    },
  };
  return consumer as unknown as FakeConsumer;
}

/** Drains like MessageChannel.drainFrames: the peer has published `publishEvery` bytes at a time. */
function receiveAll(buffer: FrameBuffer, stream: Uint8Array, publishEvery: number): Uint8Array[] {
  const consumer = fakeConsumer(stream);
  const frames: Uint8Array[] = [];
  let published = 0;
  while (consumer.position < stream.length) {
    published = Math.min(stream.length, published + publishEvery);
    for (;;) {
      const copied = buffer.fill(consumer, buffer.wanted(published - consumer.position));
      let delivered = false;
      for (;;) {
        const len = buffer.nextLength();
        if (len < 0) break;
        const start = buffer.start + 4;
        if (start + len > buffer.end) {
          buffer.reserve(4 + len);
          break;
        }
        frames.push(buffer.bytes.slice(start, start + len));
        buffer.start = start + len;
        delivered = true;
      }
      if (copied === 0 && !delivered) break;
    }
  }
  return frames;
}

function expectFrames(frames: Uint8Array[], sizes: number[]): void {
  expect(frames.map((f) => f.length)).toEqual(sizes);
  frames.forEach((frame, index) => {
    for (let i = 0; i < frame.length; i += 997) expect(frame[i]).toBe((index + i) & 0xff);
    expect(frame[frame.length - 1]).toBe(frame.length === 0 ? undefined : (index + frame.length - 1) & 0xff);
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('FrameBuffer', () => {
  it('delivers mixed frame sizes intact whatever the read sizes', () => {
    const sizes = [0, 1, 64, 70_000, 3, 65_536, 200_000, 16_380, 16_384, 5, 1_000_000, 64];
    for (const publishEvery of [1, 7, 4096, 16_384, 65_536, 1 << 20]) {
      expectFrames(receiveAll(new FrameBuffer(65_536), frameStream(sizes), publishEvery), sizes);
    }
  });

  it('copies ring-sized frames out once: nothing is moved inside the buffer afterwards', () => {
    const moved = vi.spyOn(Uint8Array.prototype, 'copyWithin');
    const sizes = Array.from({ length: 200 }, () => 65_536);
    for (const publishEvery of [16_384, 40_000, 65_536]) {
      expectFrames(receiveAll(new FrameBuffer(65_536), frameStream(sizes), publishEvery), sizes);
    }
    expect(moved).not.toHaveBeenCalled();
  });

  it('hands the space back every quarter ring while it copies a full ring, the last piece left to the caller', () => {
    const ring = 1 << 20;
    const sizes = Array.from({ length: 15 }, () => 65_536).concat([ring - 16 * 4 - 15 * 65_536]);
    const stream = frameStream(sizes);
    expect(stream.length).toBe(ring);
    const buffer = new FrameBuffer(ring);
    const consumer = fakeConsumer(stream);
    expect(buffer.fill(consumer, buffer.wanted(ring))).toBe(ring);
    expect(consumer.publishedAt).toEqual([ring / 4, ring / 2, (3 * ring) / 4]);

    // A copy of a quarter ring or less publishes nothing itself.
    const small = fakeConsumer(stream);
    expect(new FrameBuffer(ring).fill(small, ring / 4)).toBe(ring / 4);
    expect(small.publishedAt).toEqual([]);
  });
});
