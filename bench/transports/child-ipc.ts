/**
 * Baseline: the child_process IPC channel between a parent and the child it spawned, with
 * `serialization: 'advanced'` (V8 structured clone; the default JSON would turn every Buffer into
 * an array of numbers and lose by orders of magnitude).
 *
 * How the sender batches: messages under DIRECT_WRITE_MIN bytes are framed into 64 KiB batches, one
 * send() per batch (same FrameBatcher as the socket baseline); larger messages go one send() each.
 * Both sides know the size of a stream, so the receiver knows which of the two it gets.
 * At most WINDOW_SENDS sends are outstanding (send callbacks).
 */
import { FrameBatcher } from '../framing/frame-batcher.js';
import { FrameParser } from '../framing/frame-parser.js';
import { END_OF_STREAM, makePayload, StreamChecker, writeSequence } from '../message-pattern.js';
import {
  hrtimeNs,
  type MessageEndpoint,
  type PingPongSpec,
  type RoundTripSamples,
  type StreamReceiveResult,
  type StreamSendResult,
  type StreamSpec,
} from '../worker/endpoint.js';
import { BATCH_BYTES, DIRECT_WRITE_MIN } from './unix-socket.js';
import { WriteWindow } from './write-window.js';

const WINDOW_SENDS = 32;
const CLOCK_EVERY = 64;

/** The two ends of the channel: a ChildProcess in the parent, `process` in the child. */
export interface IpcPort {
  send(message: unknown, callback: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

export class ChildIpcEndpoint implements MessageEndpoint {
  private echo: ((message: unknown) => void) | undefined;

  constructor(private readonly port: IpcPort) {}

  receiveStream(spec: StreamSpec): Promise<StreamReceiveResult> {
    const port = this.port;
    return new Promise((resolve, reject) => {
      const checker = new StreamChecker(spec.size);
      const finish = (error?: unknown): void => {
        port.off('message', onMessage);
        if (error !== undefined) reject(error);
        else resolve({ endNs: hrtimeNs(), received: checker.received });
      };
      const parser = new FrameParser((bytes, offset, length) => {
        if (checker.accept(bytes, offset, length)) finish();
      }, spec.size);
      const batched = spec.size < DIRECT_WRITE_MIN;
      const onMessage = (message: unknown): void => {
        if (!(message instanceof Uint8Array)) return; // control traffic
        try {
          if (batched) parser.push(message);
          else if (checker.accept(message, 0, message.length)) finish();
        } catch (error) {
          finish(error);
        }
      };
      port.on('message', onMessage);
    });
  }

  async sendStream(spec: StreamSpec): Promise<StreamSendResult> {
    const port = this.port;
    const payload = makePayload(spec.size);
    const window = new WriteWindow(WINDOW_SENDS);
    const onSent = (): void => window.release();
    const deadline = performance.now() + spec.durationMs;
    const startNs = hrtimeNs();
    let sent = 0;
    if (spec.size < DIRECT_WRITE_MIN) {
      // send() serializes synchronously, so a batch is free again as soon as send() returns.
      const batcher = new FrameBatcher(BATCH_BYTES, (batch, done) => {
        window.acquire();
        port.send(batch, onSent);
        done();
      });
      for (;;) {
        for (let i = 0; i < CLOCK_EVERY; i++) batcher.append(payload, sent++);
        if (window.full) await window.drained();
        if (performance.now() >= deadline) break;
      }
      batcher.append(payload, END_OF_STREAM);
      batcher.flush();
    } else {
      for (;;) {
        writeSequence(payload, 0, sent++);
        window.acquire();
        port.send(payload, onSent);
        if (window.full) await window.drained();
        if (performance.now() >= deadline) break;
      }
      writeSequence(payload, 0, END_OF_STREAM);
      window.acquire();
      port.send(payload, onSent);
    }
    await window.settled();
    return { startNs, sent };
  }

  serveEcho(): void {
    this.echo = (message: unknown): void => {
      if (message instanceof Uint8Array) this.port.send(message, noop);
    };
    this.port.on('message', this.echo);
  }

  pingPong(spec: PingPongSpec): Promise<RoundTripSamples> {
    const port = this.port;
    const payload = makePayload(spec.size);
    const total = spec.warmup + spec.iterations;
    const rttNs = new Array<number>(spec.iterations);
    return new Promise((resolve, reject) => {
      let done = 0;
      let sentAt = 0;
      const onMessage = (message: unknown): void => {
        const now = performance.now();
        if (!(message instanceof Uint8Array)) return;
        if (message.length !== spec.size) {
          port.off('message', onMessage);
          reject(new Error(`echo of ${message.length} bytes, expected ${spec.size}`));
          return;
        }
        if (done >= spec.warmup) rttNs[done - spec.warmup] = (now - sentAt) * 1e6;
        if (++done === total) {
          port.off('message', onMessage);
          resolve({ rttNs });
          return;
        }
        sentAt = performance.now();
        port.send(payload, noop);
      };
      port.on('message', onMessage);
      sentAt = performance.now();
      port.send(payload, noop);
    });
  }

  async close(): Promise<void> {
    if (this.echo !== undefined) this.port.off('message', this.echo);
    this.echo = undefined;
  }
}

function noop(): void {}
