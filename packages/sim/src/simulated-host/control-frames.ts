/**
 * Framing of the sim host's control protocol (not on any hot path): u32 little-endian length,
 * then that many bytes of UTF-8 JSON. Hostile or broken input is a ControlProtocolError; the
 * receiver closes the connection.
 */

/** Largest control frame accepted; real ones are a few hundred bytes. */
export const MAX_CONTROL_FRAME_BYTES = 1 << 20;

export class ControlProtocolError extends Error {
  override readonly name = 'ControlProtocolError';
}

export function encodeControlFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

export class ControlFrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  /** Whole messages in `chunk` (plus earlier leftovers). Each is a parsed JSON object. */
  push(chunk: Buffer): Record<string, unknown>[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const messages: Record<string, unknown>[] = [];
    let offset = 0;
    while (this.#pending.length - offset >= 4) {
      const length = this.#pending.readUInt32LE(offset);
      if (length > MAX_CONTROL_FRAME_BYTES) throw new ControlProtocolError(`control frame of ${length} bytes is too large`);
      if (this.#pending.length - offset - 4 < length) break;
      const text = this.#pending.toString('utf8', offset + 4, offset + 4 + length);
      offset += 4 + length;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ControlProtocolError('control frame is not JSON');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ControlProtocolError('control frame is not an object');
      messages.push(parsed as Record<string, unknown>);
    }
    this.#pending = this.#pending.subarray(offset);
    return messages;
  }

  /** Bytes after the last whole frame (handed to the xs_wire parser when a connection switches). */
  takeRemainder(): Buffer {
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    return rest;
  }
}
