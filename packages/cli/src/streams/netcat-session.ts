/**
 * netcat over one vchan: input -> channel, channel -> output, with delivery accounting.
 *
 * vchan has no half-close and no acknowledgement, so "delivered" is defined by the ring: a byte
 * is delivered once the peer has consumed it (its consumer index passed it; DeliveryTracker).
 * The protocol (also in the package README):
 * - when our input ends, we wait until the peer has consumed every byte we wrote, then read
 *   what has arrived for us, then close the channel (this ends it for both sides);
 * - when the peer closes first, we read everything it sent, stop reading input, and count what
 *   it never consumed: bytes still in the ring, bytes we held, input left unread;
 * - a crash, a vanished domain or host, or an interruption ends it with what was counted so far.
 * The session reports; the command decides what is a failure (see NetcatResult).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Readable, Writable } from 'node:stream';
import { ChannelClosedError, type CloseReason, type VchanEndpoint } from '@xenipc/channel';
import { CANCELLED, ChunkReader } from './chunk-reader.js';
import type { DeliveryTracker } from './delivery-tracker.js';

/** Largest chunk copied out of the ring at a time. */
const READ_CHUNK_BYTES = 64 * 1024;
/** Bytes moved to the output before we let other work (signals, input, timers) run. */
const BYTES_PER_TURN = 1024 * 1024;

export interface NetcatCounts {
  /** Bytes taken from the input. */
  taken: number;
  /** Bytes put into the channel's ring. */
  written: number;
  /** Bytes the peer consumed out of the ring. */
  delivered: number;
  /** Bytes received from the peer and handed to the output. */
  received: number;
}

export interface NetcatResult extends NetcatCounts {
  /**
   * How it ended: 'closed' (our input ended, everything was consumed, we closed), a peer-side
   * reason ('peer-closed', 'peer-crashed', ...), or 'interrupted' (the signal fired).
   */
  ending: CloseReason | 'interrupted';
  /** True once the input reached EOF (never, without input). */
  inputEnded: boolean;
  /** The input still held bytes nobody read when the channel ended. */
  unreadInput: boolean;
}

export interface NetcatSessionOptions {
  /** What to send; undefined: receive only (`-d`). */
  input: Readable | undefined;
  output: Writable;
  /** Stops the session: the channel is closed and the result says 'interrupted'. */
  signal: AbortSignal;
}

export class NetcatSession {
  private readonly counts = { taken: 0, written: 0, received: 0 };
  private inputEnded = false;
  private closeRequested = false;
  private interrupted = false;
  private streamFailure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly endpoint: VchanEndpoint,
    private readonly tracker: DeliveryTracker,
    private readonly options: NetcatSessionOptions,
  ) {}

  /** Counts so far (for a progress line). */
  progress(): NetcatCounts {
    return { ...this.counts, delivered: Math.max(0, this.counts.written - this.tracker.unconsumed) };
  }

  /** Runs until the channel ends. Rejects only if the input or output failed (the channel is closed then). */
  async run(): Promise<NetcatResult> {
    const { input, output, signal } = this.options;
    const onAbort = (): void => {
      this.interrupted = true;
      this.poke();
    };
    const onOutputError = (err: Error): void => {
      this.streamFailure ??= err;
      this.poke();
    };
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) this.interrupted = true;
    output.on('error', onOutputError);
    const reader = input === undefined ? undefined : new ChunkReader(input);
    const sending = reader === undefined ? Promise.resolve() : this.send(reader);
    let ending: NetcatResult['ending'];
    try {
      ending = await this.receive();
    } finally {
      reader?.cancel();
      await this.endpoint.close().catch(() => undefined);
      await sending;
      signal.removeEventListener('abort', onAbort);
      reader?.dispose();
    }
    // Everything received is handed to the output; wait until it is written out, unless we
    // were interrupted (a reader that stopped reading must not keep us from exiting).
    if (ending !== 'interrupted' && this.streamFailure === undefined) await new Promise<void>((resolve) => output.write('', () => resolve()));
    output.off('error', onOutputError);
    if (this.streamFailure !== undefined) throw this.streamFailure;
    return { ...this.progress(), ending, inputEnded: this.inputEnded, unreadInput: reader?.hasUnread() ?? false };
  }

  /** Channel -> output until the channel ends (or we end it). */
  private async receive(): Promise<NetcatResult['ending']> {
    const ep = this.endpoint;
    let sinceTurn = 0;
    for (;;) {
      if (this.streamFailure !== undefined) throw this.streamFailure;
      if (this.interrupted) return 'interrupted';
      if (this.closeRequested) {
        // Our side is done: take what has arrived (no more than is there now), then close.
        for (let left = ep.dataReady; left > 0; ) left -= this.receiveChunk(Math.min(left, READ_CHUNK_BYTES));
        await ep.close();
        return 'closed';
      }
      const ready = ep.dataReady;
      if (ready > 0) {
        const n = this.receiveChunk(Math.min(ready, READ_CHUNK_BYTES));
        sinceTurn += n;
        if (this.options.output.writableNeedDrain) await this.until(waitForDrain(this.options.output));
        if (sinceTurn >= BYTES_PER_TURN) {
          sinceTurn = 0;
          await nextTurn();
        }
        continue;
      }
      if (ep.eof) return ep.closeReason ?? 'closed';
      sinceTurn = 0;
      await this.until(ep.waitReadable());
    }
  }

  private receiveChunk(size: number): number {
    const chunk = Buffer.allocUnsafe(size);
    const n = this.endpoint.read(chunk);
    if (n === 0) return size; // ended meanwhile; nothing more to take
    this.counts.received += n;
    this.options.output.write(n === size ? chunk : chunk.subarray(0, n));
    return n;
  }

  /** Input -> channel; at EOF, wait for the peer to consume everything, then ask receive() to close. */
  private async send(reader: ChunkReader): Promise<void> {
    const ep = this.endpoint;
    try {
      for (;;) {
        const chunk = await reader.next();
        if (chunk === CANCELLED) return;
        if (chunk === null) break;
        this.counts.taken += chunk.length;
        let offset = 0;
        while (offset < chunk.length) {
          const n = ep.write(offset === 0 ? chunk : chunk.subarray(offset)); // throws once the channel ended
          offset += n;
          this.counts.written += n;
          this.tracker.sample();
          if (offset < chunk.length) await ep.waitWritable(Math.min(chunk.length - offset, Math.max(1, ep.writeRingSize >>> 1)));
        }
      }
      this.inputEnded = true;
      // The whole ring free again = the peer consumed every byte we wrote.
      await ep.waitWritable(ep.writeRingSize);
      this.tracker.sample();
      this.closeRequested = true;
      this.poke();
    } catch (err) {
      if (ChannelClosedError.is(err)) return; // receive() reports the end
      this.streamFailure ??= err instanceof Error ? err : new Error(String(err));
      this.poke();
    }
  }

  /** Wait for `promise`, or for poke() (an interruption, a close request, a failure). */
  private until(promise: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.wake = resolve;
      promise.then(resolve, reject);
    });
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Resolves on 'drain'; also on 'close' or 'error' (the error itself reaches the session's listener). */
function waitForDrain(output: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      output.off('drain', done);
      output.off('close', done);
      output.off('error', done);
      resolve();
    };
    output.on('drain', done);
    output.on('close', done);
    output.on('error', done);
  });
}
