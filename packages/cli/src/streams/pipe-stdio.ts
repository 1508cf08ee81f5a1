/**
 * netcat's loop for one channel: stdin -> channel, channel -> stdout.
 * - EOF on stdin ends the channel once what we wrote is in it: vchan has no half-close, so this
 *   closes the whole channel (the peer still reads every byte, then sees EOF);
 * - the peer closing ends our reading: everything received is flushed to stdout, and we are done;
 * - a channel error (peer died, host gone) rejects.
 */
import type { Duplex, Readable, Writable } from 'node:stream';

/** `stdin` undefined: receive only (nc -d). */
export function pipeStdio(channel: Duplex, stdin: Readable | undefined, stdout: Writable, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      stdin?.unpipe(channel);
      stdin?.pause();
      signal.removeEventListener('abort', onAbort);
      if (err) {
        channel.destroy();
        reject(err);
        return;
      }
      // Everything received is in stdout's buffer; resolve once it is written out.
      stdout.write('', () => resolve());
    };
    const onAbort = () => settle(signal.reason instanceof Error ? signal.reason : new Error('interrupted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);

    channel.on('error', (err: Error) => settle(err));
    stdin?.on('error', (err: Error) => settle(err));
    stdout.on('error', (err: Error) => settle(err));
    channel.on('end', () => settle());
    channel.on('close', () => settle());
    channel.pipe(stdout, { end: false });
    stdin?.pipe(channel); // ends (closes) the channel at EOF, after what was written
  });
}
