/**
 * Copy bytes both ways between two duplex streams (a channel and a socket) until both are done.
 * Each side's EOF ends the other's write side; once one side has closed, the other gets what is
 * on its way to it and is then destroyed; an error on either destroys both.
 */
import type { Duplex } from 'node:stream';

/**
 * The other side closed for good: deliver what is already on its way to `stream`, then destroy
 * it, since nothing it reads can go anywhere now. Waiting for `stream` to close by itself can
 * hang: its readable side may never end (a client that keeps its socket open), or end unseen
 * (the closed side unpiped and paused it, so a late push(null) emits no 'end').
 */
function finishAfterPeerClosed(stream: Duplex): void {
  if (stream.writableFinished) {
    stream.destroy();
    return;
  }
  stream.once('finish', () => stream.destroy());
  stream.end();
}

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
        if (closed === 1) finishAfterPeerClosed(stream === a ? b : a);
        if (closed === 2) settle();
      });
    }
    a.pipe(b);
    b.pipe(a);
  });
}
