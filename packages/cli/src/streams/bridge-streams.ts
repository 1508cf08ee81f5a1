/**
 * Copy bytes both ways between two duplex streams (a channel and a socket) until both are done.
 * Each side's EOF ends the other's write side; an error on either destroys both.
 */
import type { Duplex } from 'node:stream';

export function bridgeStreams(a: Duplex, b: Duplex, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let closed = 0;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err) {
        a.destroy();
        b.destroy();
        reject(err);
      } else {
        resolve();
      }
    };
    const onAbort = () => settle(signal.reason instanceof Error ? signal.reason : new Error('interrupted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    for (const stream of [a, b]) {
      stream.on('error', (err: Error) => settle(err));
      stream.on('close', () => {
        closed += 1;
        // One side gone for good: nothing more can flow, so finish the other.
        const other = stream === a ? b : a;
        if (closed === 1) other.end();
        if (closed === 2) settle();
      });
    }
    a.pipe(b);
    b.pipe(a);
  });
}
