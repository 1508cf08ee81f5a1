/**
 * The ceiling: the same bytes moved by one Buffer.copy per message, inside one process, into a
 * destination the size of the ring (wrapping around, in ring-sized pieces for messages larger than
 * the ring). Any transport between two processes copies at least this much.
 */
import { makePayload } from '../message-pattern.js';

export interface MemcpySpec {
  size: number;
  ringBytes: number;
  durationMs: number;
}

export interface MemcpyResult {
  messages: number;
  seconds: number;
}

export function measureMemcpy(spec: MemcpySpec): MemcpyResult {
  const source = makePayload(spec.size);
  const ring = Buffer.allocUnsafeSlow(spec.ringBytes);
  const deadline = performance.now() + spec.durationMs;
  const started = performance.now();
  let at = 0;
  let messages = 0;
  for (;;) {
    for (let i = 0; i < 64; i++) {
      let copied = 0;
      while (copied < spec.size) {
        if (at === spec.ringBytes) at = 0;
        const piece = Math.min(spec.size - copied, spec.ringBytes - at);
        source.copy(ring, at, copied, copied + piece);
        copied += piece;
        at += piece;
      }
      messages++;
    }
    if (performance.now() >= deadline) break;
  }
  // Keep the copies observable so they cannot be optimized away.
  if (ring[at - 1] === 0x100) console.log('unreachable');
  return { messages, seconds: (performance.now() - started) / 1000 };
}
