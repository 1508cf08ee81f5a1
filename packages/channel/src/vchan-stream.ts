/**
 * A Node Duplex over a vchan endpoint. Backpressure both ways: _read pulls only what the
 * consumer asked for (the ring fills up and the peer's writes stall), _write calls back only
 * once the bytes are in the ring.
 *
 * Ending: the peer's clean close gives 'end' after everything it sent; a crash or domain death
 * gives 'error' (ChannelClosedError with the reason) after everything it committed. vchan has no
 * half-close, so end() (our writable side finishing) closes the whole channel; bytes already
 * received are still pushed first.
 *
 * Fair: after a bounded amount of reading (drain-budget.ts) the stream yields to the event loop
 * before it pulls more, however fast the peer refills the ring (a consumer in flowing mode would
 * otherwise keep reading from nextTick to nextTick).
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import { checkInteger, invalidArgType } from './argument-errors.js';
import { ChannelClosedError } from './channel-closed-error.js';
import { FRAME_COST, STREAM_WORK_PER_TURN } from './drain-budget.js';
import { endpointHandle, type EndpointHandle } from './endpoint-handle.js';
import type { VchanEndpoint } from './vchan-endpoint.js';

export interface VchanStreamOptions extends Omit<DuplexOptions, 'read' | 'write' | 'final' | 'destroy' | 'allowHalfOpen'> {
  /** Largest chunk pushed per read (default 64 KiB). */
  readChunkSize?: number;
}

export class VchanStream extends Duplex {
  readonly endpoint: VchanEndpoint;
  private readonly handle: EndpointHandle;
  private readonly readChunkSize: number;
  private waitingRead = false;
  private ended = false;
  /** Read work left before the next yield; a setImmediate refills it (drain-budget.ts). */
  private workLeft = STREAM_WORK_PER_TURN;
  private yielding = false;

  constructor(endpoint: VchanEndpoint, options: VchanStreamOptions = {}) {
    const handle = endpointHandle(endpoint);
    if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
    const chunk = checkInteger('options.readChunkSize', options.readChunkSize ?? 64 * 1024, 1, 2 ** 30);
    const { readChunkSize: _unused, ...duplexOptions } = options;
    super({ ...duplexOptions, allowHalfOpen: false });
    this.endpoint = endpoint;
    this.handle = handle;
    this.readChunkSize = chunk;
  }

  override _read(): void {
    this.pull();
  }

  private readonly afterYield = (): void => {
    this.yielding = false;
    this.workLeft = STREAM_WORK_PER_TURN;
    this.pull();
  };

  /** Push what is readable until the consumer says stop; otherwise wait for the peer. */
  private pull(): void {
    const ep = this.endpoint;
    let pushed = false;
    for (;;) {
      if (this.ended || this.destroyed || this.yielding) return;
      if (this.workLeft <= 0) {
        this.yielding = true;
        setImmediate(this.afterYield);
        return;
      }
      const n = Math.min(ep.dataReady, this.readChunkSize);
      if (n === 0) {
        if (ep.eof) return this.finishReading();
        if (this.waitingRead) return;
        this.waitingRead = true;
        // waitReadable() may spin: not before the consumer has handled what we just pushed
        // (its reply is written on a later tick; spinning first would only delay it).
        if (pushed && this.handle.spinEnabled) setImmediate(this.waitThenPull);
        else this.waitThenPull();
        return;
      }
      const chunk = Buffer.allocUnsafe(n);
      ep.read(chunk);
      pushed = true;
      this.workLeft -= n + FRAME_COST;
      if (!this.push(chunk)) return;
    }
  }

  private readonly waitThenPull = (): void => {
    void this.endpoint.waitReadable().then(() => {
      this.waitingRead = false;
      this.pull();
    });
  };

  private finishReading(): void {
    if (this.ended) return;
    this.ended = true;
    const reason = this.endpoint.closeReason ?? 'closed';
    void this.endpoint.close().catch(() => undefined);
    if (reason === 'closed' || reason === 'peer-closed') this.push(null);
    else this.destroy(new ChannelClosedError(reason));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll(chunk).then(() => callback(), callback);
  }

  private async writeAll(chunk: Uint8Array): Promise<void> {
    const ep = this.endpoint;
    let off = ep.write(chunk);
    while (off < chunk.length) {
      await ep.waitWritable(Math.min(chunk.length - off, Math.max(1, ep.writeRingSize >>> 1)));
      off += ep.write(off === 0 ? chunk : chunk.subarray(off));
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    // No half-close in vchan: take what already arrived, then close the channel.
    const ep = this.endpoint;
    while (!ep.eof && ep.dataReady > 0) {
      const chunk = Buffer.allocUnsafe(Math.min(ep.dataReady, this.readChunkSize));
      ep.read(chunk);
      this.push(chunk);
    }
    ep.close().then(
      () => {
        if (!this.ended) {
          this.ended = true;
          this.push(null);
        }
        callback();
      },
      (err: unknown) => callback(err as Error),
    );
  }

  /** `await using stream = new VchanStream(...)`: destroy (closing the channel) at the end of the scope. */
  override async [Symbol.asyncDispose](): Promise<void> {
    this.destroy();
    await this.endpoint.closed();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.endpoint.close().then(
      () => callback(error),
      () => callback(error),
    );
  }
}
