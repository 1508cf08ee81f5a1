/**
 * Pull-style reading of a byte stream (stdin): one chunk per next(), nothing read ahead beyond
 * the stream's own buffer, and a cancel() that ends a pending next() without touching the
 * stream. After cancel, hasUnread() tells whether input the user gave was left unread.
 */
import { fstatSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';

export const CANCELLED: unique symbol = Symbol('cancelled');

export class ChunkReader {
  private wake: (() => void) | undefined;
  private ended = false;
  private cancelled = false;
  private failure: Error | undefined;
  private readonly onReadable = (): void => this.poke();
  private readonly onEnd = (): void => {
    this.ended = true;
    this.poke();
  };
  private readonly onError = (err: Error): void => {
    this.failure = err;
    this.poke();
  };

  constructor(private readonly stream: Readable) {
    stream.on('readable', this.onReadable);
    stream.on('end', this.onEnd);
    stream.on('error', this.onError);
  }

  /** True once the stream ended (EOF seen). */
  get atEnd(): boolean {
    return this.ended;
  }

  /** The next chunk; null at EOF; CANCELLED after cancel(). Rejects on a stream error. */
  async next(): Promise<Buffer | null | typeof CANCELLED> {
    for (;;) {
      if (this.cancelled) return CANCELLED;
      if (this.failure !== undefined) throw this.failure;
      const chunk: unknown = this.stream.read();
      if (chunk !== null) return typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      if (this.ended || this.stream.readableEnded) {
        this.ended = true;
        return null;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Stop: a pending next() resolves CANCELLED; the stream is left as it is (paused). */
  cancel(): void {
    this.cancelled = true;
    this.poke();
  }

  /**
   * Whether the stream still holds input nobody read: bytes in its buffer, or, for this process's
   * own stdin when it is a pipe, socket or file, bytes waiting in the kernel right now (one
   * non-blocking read; libuv made the descriptor non-blocking). A terminal counts as empty:
   * what the user types later was not given yet.
   */
  hasUnread(): boolean {
    if (this.ended) return false;
    if (this.stream.readableLength > 0) return true;
    return this.stream === process.stdin && !process.stdin.isTTY && descriptorHasData(0);
  }

  dispose(): void {
    this.stream.off('readable', this.onReadable);
    this.stream.off('end', this.onEnd);
    this.stream.off('error', this.onError);
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function descriptorHasData(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    if (!stat.isFIFO() && !stat.isSocket() && !stat.isFile()) return false;
    return readSync(fd, Buffer.alloc(1), 0, 1, null) > 0;
  } catch {
    return false; // EAGAIN: nothing there now
  }
}
