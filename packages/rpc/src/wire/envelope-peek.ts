/**
 * Reads the message type and msgid of an RPC message from its first bytes, without decoding the
 * rest: what a peer still knows about a message whose body cannot be decoded (so a response can
 * fail its call at once, and a request can get an error response, instead of waiting for a timeout).
 */

export interface PeekedEnvelope {
  /** 0 request, 1 response. */
  kind: 0 | 1;
  msgid: number;
}

/** The kind and msgid of a 4-element request/response in `buf[start, end)`, if they are readable. */
export function peekEnvelope(buf: Uint8Array, start: number, end: number): PeekedEnvelope | undefined {
  let pos = start;
  const token = buf[pos];
  if (token === 0x94) pos += 1;
  else if (token === 0xdc && buf[pos + 1] === 0 && buf[pos + 2] === 4) pos += 3;
  else if (token === 0xdd && buf[pos + 1] === 0 && buf[pos + 2] === 0 && buf[pos + 3] === 0 && buf[pos + 4] === 4) pos += 5;
  else return undefined;
  if (pos + 2 > end) return undefined;
  const kind = buf[pos++];
  if (kind !== 0 && kind !== 1) return undefined;
  const first = buf[pos++]!;
  let msgid: number;
  if (first <= 0x7f) msgid = first;
  else if (first === 0xcc && pos + 1 <= end) msgid = buf[pos]!;
  else if (first === 0xcd && pos + 2 <= end) msgid = (buf[pos]! << 8) | buf[pos + 1]!;
  else if (first === 0xce && pos + 4 <= end) msgid = buf[pos]! * 0x1000000 + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!);
  else if (first === 0xcf && pos + 8 <= end && buf[pos] === 0 && buf[pos + 1] === 0 && buf[pos + 2] === 0 && buf[pos + 3] === 0) {
    msgid = buf[pos + 4]! * 0x1000000 + ((buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!);
  } else return undefined;
  return { kind, msgid };
}
