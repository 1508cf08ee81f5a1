/**
 * RingProducer's touch-ahead: inside a batch of frames it writes zeros over the next stretch of
 * free space before writing frames into it (so the cache lines come to the writer's core in one
 * run). It must never reach bytes the reader has not consumed, whatever the frame sizes, the
 * wrap-around and the reader's pace; and a frame that opens a batch (a lone ping or RPC call)
 * must not pay for a fill.
 */
import { describe, expect, it } from 'vitest';
import type { EventChannel } from '@xenipc/core';
import { Notifier } from '../src/notifier.js';
import { RingProducer } from '../src/ring.js';

const PROD = 0;
const CONS = 1;
const UNTOUCHED = 0xaa;

/** A producer over a private ring whose reader is simulated by storing `cons` directly. */
function producerOver(size: number): { producer: RingProducer; data: Uint8Array; setCons(cons: number): void } {
  const words = new Int32Array(2);
  const data = new Uint8Array(size).fill(UNTOUCHED);
  const port = { notify: () => undefined } as unknown as EventChannel;
  const notifier = new Notifier(new Uint8Array(2), 0, 1, port);
  const producer = new RingProducer(words, PROD, CONS, data, notifier);
  return { producer, data, setCons: (cons) => Atomics.store(words, CONS, cons | 0) };
}

/** Deterministic pseudo-random numbers (xorshift32). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('RingProducer touch-ahead', () => {
  it('never writes over bytes the reader has not consumed (random frames, wrap-around, a lagging reader)', () => {
    const size = 8192;
    const { producer, data, setCons } = producerOver(size);
    const next = random(0x5eed);
    // The byte stream written so far (frame headers and payloads), by stream position.
    const stream: number[] = [];
    let cons = 0;
    for (let step = 0; step < 4000; step++) {
      const length = next() < 0.8 ? Math.floor(next() * 200) : Math.floor(next() * 3000);
      if (producer.hasSpace(4 + length)) {
        const payload = new Uint8Array(length).map((_, i) => (stream.length + i * 7) & 0xff);
        producer.putFrame(payload);
        stream.push(length & 0xff, (length >>> 8) & 0xff, (length >>> 16) & 0xff, length >>> 24, ...payload);
      }
      if (next() < 0.1) producer.publish();
      if (next() < 0.3) {
        // The reader consumes part of what is there.
        cons += Math.floor(next() * (stream.length - cons + 1));
        setCons(cons);
      }
      // Everything between the reader's position and ours is exactly what we wrote.
      for (let at = cons; at < stream.length; at++) {
        if (data[at % size] !== stream[at]) expect.fail(`step ${step}: byte ${at} of the stream was overwritten`);
      }
    }
    expect(stream.length).toBeGreaterThan(10 * size);
  });

  it('leaves the ring alone for the first frame after a publish, and fills ahead inside a batch', () => {
    const size = 65536;
    const { producer, data } = producerOver(size);
    expect(producer.hasSpace(68)).toBe(true);
    producer.putFrame(new Uint8Array(64).fill(1));
    producer.publish();
    // A lone frame: nothing past it is written.
    producer.putFrame(new Uint8Array(64).fill(2));
    expect(data.subarray(136, 1024).every((byte) => byte === UNTOUCHED)).toBe(true);
    // The second frame of the batch takes the next stretch of free space first.
    producer.putFrame(new Uint8Array(64).fill(3));
    expect(data.subarray(204, 1024).every((byte) => byte === 0)).toBe(true);
    expect(data.subarray(140, 204).every((byte) => byte === 3)).toBe(true);
    expect(data[size - 1]).toBe(UNTOUCHED);
  });
});
