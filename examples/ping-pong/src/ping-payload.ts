/**
 * The bytes of one ping: a u32 little-endian sequence number, then a fixed pattern. The client
 * checks every pong against what it sent (length, sequence number, last byte), so a ping-pong
 * that "works" but corrupts or reorders data fails loudly.
 */
export function makePing(size: number): Uint8Array {
  const ping = new Uint8Array(size);
  for (let i = 0; i < size; i++) ping[i] = (i * 31 + 7) & 0xff;
  return ping;
}

/** Stamp `seq` into the ping in place (no allocation per message). */
export function stampPing(ping: Uint8Array, seq: number): void {
  if (ping.length >= 4) {
    ping[0] = seq & 0xff;
    ping[1] = (seq >>> 8) & 0xff;
    ping[2] = (seq >>> 16) & 0xff;
    ping[3] = (seq >>> 24) & 0xff;
  }
}

/** Throws unless `pong` is the echo of ping number `seq` of `size` bytes. */
export function checkPong(pong: Uint8Array, size: number, seq: number): void {
  if (pong.length !== size) throw new Error(`pong ${seq} has ${pong.length} bytes, expected ${size}`);
  if (size >= 4) {
    const got = ((pong[0] ?? 0) | ((pong[1] ?? 0) << 8) | ((pong[2] ?? 0) << 16) | ((pong[3] ?? 0) << 24)) >>> 0;
    if (got !== seq >>> 0) throw new Error(`pong carries sequence number ${got}, expected ${seq}`);
  }
  if (size > 4 && pong[size - 1] !== (((size - 1) * 31 + 7) & 0xff)) throw new Error(`pong ${seq} has a corrupted payload`);
}
