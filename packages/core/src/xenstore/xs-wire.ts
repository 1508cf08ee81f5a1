/**
 * The xenstore wire protocol (xen/include/public/io/xs_wire.h): every message is a 16-byte header
 * {u32 type, u32 req_id, u32 tx_id, u32 len} in host byte order (little-endian on x86 and Arm)
 * followed by `len` payload bytes, usually NUL-separated strings.
 *
 * The same codec serves the client (talking to a real xenstored or the simulated one) and the
 * simulated server, so both reject malformed input the same way: a frame that cannot be parsed is a
 * protocol error that ends the connection, never a crash.
 */

export const XsMessageType = {
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
} as const;
export type XsMessageType = (typeof XsMessageType)[keyof typeof XsMessageType];

/** Highest type number xs_wire.h defines (XS_TYPE_COUNT - 1); anything above is garbage. */
export const XS_MAX_TYPE = 22;
export const XS_HEADER_SIZE = 16;
/** XENSTORE_PAYLOAD_MAX: xenstored drops a connection that announces more. */
export const XS_PAYLOAD_MAX = 4096;
/** XENSTORE_ABS_PATH_MAX / XENSTORE_REL_PATH_MAX. */
export const XS_ABS_PATH_MAX = 3072;
export const XS_REL_PATH_MAX = 2048;

export interface XsMessage {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

/** The peer broke the framing; the connection cannot be resynchronised and must be closed. */
export class XsProtocolError extends Error {
  override readonly name = 'XsProtocolError';
}

export function encodeXsMessage(type: number, reqId: number, txId: number, payload: Buffer): Buffer {
  if (payload.length > XS_PAYLOAD_MAX) {
    throw new XsProtocolError(`xenstore payload of ${payload.length} bytes exceeds the ${XS_PAYLOAD_MAX}-byte maximum`);
  }
  const frame = Buffer.allocUnsafe(XS_HEADER_SIZE + payload.length);
  frame.writeUInt32LE(type, 0);
  frame.writeUInt32LE(reqId >>> 0, 4);
  frame.writeUInt32LE(txId >>> 0, 8);
  frame.writeUInt32LE(payload.length, 12);
  payload.copy(frame, XS_HEADER_SIZE);
  return frame;
}

/** Payload of strings, each followed by a NUL ("a\0b\0"). */
export function nulTerminated(...parts: readonly string[]): Buffer {
  return Buffer.from(parts.map((part) => `${part}\0`).join(''), 'utf8');
}

/** Splits a payload on NUL. A trailing NUL does not produce an empty last element. */
export function splitNul(payload: Buffer): string[] {
  if (payload.length === 0) return [];
  const text = payload.toString('utf8');
  const parts = text.split('\0');
  if (text.endsWith('\0')) parts.pop();
  return parts;
}

/**
 * Incremental frame parser: push() stream chunks in any split, get whole messages out. Throws
 * XsProtocolError for an oversize length or an unknown message type; after that the decoder is
 * poisoned (every later push throws) because the byte stream has lost its framing.
 */
export class XsFrameDecoder {
  #pending: Buffer = Buffer.alloc(0);
  #failed: XsProtocolError | undefined;

  push(chunk: Buffer): XsMessage[] {
    if (this.#failed !== undefined) throw this.#failed;
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const messages: XsMessage[] = [];
    let offset = 0;
    while (this.#pending.length - offset >= XS_HEADER_SIZE) {
      const type = this.#pending.readUInt32LE(offset);
      const length = this.#pending.readUInt32LE(offset + 12);
      if (type > XS_MAX_TYPE) return this.#fail(`unknown xenstore message type ${type}`);
      if (length > XS_PAYLOAD_MAX) {
        return this.#fail(`xenstore message announces ${length} payload bytes, more than the ${XS_PAYLOAD_MAX} allowed`);
      }
      if (this.#pending.length - offset < XS_HEADER_SIZE + length) break;
      const start = offset + XS_HEADER_SIZE;
      messages.push({
        type,
        reqId: this.#pending.readUInt32LE(offset + 4),
        txId: this.#pending.readUInt32LE(offset + 8),
        // A copy, so a message never pins (or aliases) the larger chunk it arrived in.
        payload: Buffer.from(this.#pending.subarray(start, start + length)),
      });
      offset = start + length;
    }
    this.#pending = offset === 0 ? this.#pending : this.#pending.subarray(offset);
    return messages;
  }

  /** Bytes received but not yet part of a whole message. */
  get bufferedBytes(): number {
    return this.#pending.length;
  }

  #fail(message: string): never {
    this.#failed = new XsProtocolError(message);
    this.#pending = Buffer.alloc(0);
    throw this.#failed;
  }
}
