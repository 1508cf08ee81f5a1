/**
 * Moves bulk data both ways over one vchan endpoint at once (in this process): writes all of
 * `outgoing` while reading `incomingBytes`, hashing what arrives (SHA-256), then waits until the
 * peer has taken everything we wrote out of the ring. Only then may we close: a libxenvchan peer
 * (vchan-socket-proxy) throws away what is still in its read ring once it sees us gone.
 */
import { createHash } from 'node:crypto';
import { ChannelClosedError, type VchanEndpoint } from '@xenipc/channel';

export interface ExchangeResult {
  /** Bytes read (incomingBytes, unless the channel ended first). */
  received: number;
  /** Hex SHA-256 of the bytes read. */
  sha256: string;
}

export const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function writeAll(ep: VchanEndpoint, data: Uint8Array): Promise<void> {
  let sent = 0;
  while (sent < data.length) {
    const n = ep.write(data.subarray(sent));
    sent += n;
    // Wait for room for a good part of the ring, not one byte: fewer wake-ups per ring fill.
    if (n === 0) await ep.waitWritable(Math.min(data.length - sent, ep.writeRingSize / 2));
  }
}

async function readCount(ep: VchanEndpoint, count: number): Promise<ExchangeResult> {
  const hash = createHash('sha256');
  const chunk = new Uint8Array(Math.min(256 * 1024, Math.max(1, count)));
  let received = 0;
  while (received < count) {
    const n = ep.read(chunk.subarray(0, Math.min(chunk.length, count - received)));
    if (n > 0) {
      hash.update(chunk.subarray(0, n));
      received += n;
    } else if (ep.eof) {
      break;
    } else {
      await ep.waitReadable(1);
    }
  }
  return { received, sha256: hash.digest('hex') };
}

/**
 * Resolves once the peer consumed everything in our write ring. A peer that closed on purpose
 * meanwhile counts as done (both ends here read all they expect before closing; a libxenvchan
 * peer that went early shows up in what it reports having received). Rejects on other ends.
 */
export async function drained(ep: VchanEndpoint): Promise<void> {
  try {
    await ep.waitWritable(ep.writeRingSize);
  } catch (err) {
    if (!ChannelClosedError.is(err, 'peer-closed')) throw err;
  }
}

export async function exchange(ep: VchanEndpoint, outgoing: Uint8Array, incomingBytes: number): Promise<ExchangeResult> {
  const [result] = await Promise.all([readCount(ep, incomingBytes), writeAll(ep, outgoing)]);
  await drained(ep);
  return result;
}
