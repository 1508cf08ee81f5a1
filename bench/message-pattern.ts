/**
 * What every benchmark message looks like, on every transport: `size` bytes whose first four
 * bytes are a little-endian sequence number (so receivers can check order and loss for free),
 * the rest a fixed fill. A message with sequence END_OF_STREAM tells the receiver that the
 * timed stream is over; it is not counted.
 */
export const SEQUENCE_BYTES = 4;
export const END_OF_STREAM = 0xffffffff;
/** The smallest message size the benchmarks use (it must hold the sequence number). */
export const MIN_MESSAGE_SIZE = 16;

export function makePayload(size: number): Buffer {
  if (size < MIN_MESSAGE_SIZE) throw new RangeError(`message size ${size} < ${MIN_MESSAGE_SIZE}`);
  const payload = Buffer.allocUnsafeSlow(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff;
  return payload;
}

export function writeSequence(target: Uint8Array, offset: number, sequence: number): void {
  target[offset] = sequence & 0xff;
  target[offset + 1] = (sequence >>> 8) & 0xff;
  target[offset + 2] = (sequence >>> 16) & 0xff;
  target[offset + 3] = sequence >>> 24;
}

export function readSequence(source: Uint8Array, offset: number): number {
  return (source[offset]! | (source[offset + 1]! << 8) | (source[offset + 2]! << 16) | (source[offset + 3]! << 24)) >>> 0;
}

/**
 * Counts a received stream and checks it: sequence numbers must arrive as 0, 1, 2, ... and
 * every message must have the announced size. Shared by all receivers so they do the same work.
 */
export class StreamChecker {
  received = 0;
  ended = false;
  constructor(private readonly size: number) {}

  /** Returns true when this message was the end-of-stream marker. */
  accept(message: Uint8Array, offset: number, length: number): boolean {
    if (length !== this.size) throw new Error(`stream message ${this.received}: ${length} bytes, expected ${this.size}`);
    const sequence = readSequence(message, offset);
    if (sequence === END_OF_STREAM) {
      this.ended = true;
      return true;
    }
    if (sequence !== (this.received >>> 0)) throw new Error(`stream message ${this.received}: sequence ${sequence}`);
    this.received++;
    return false;
  }
}
