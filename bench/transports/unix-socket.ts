/**
 * Baseline: a Unix domain stream socket (node:net), with length-prefixed frames.
 *
 * How the sender batches (what a competent user does): messages under DIRECT_WRITE_MIN bytes are
 * copied into 64 KiB batch buffers, one socket.write per batch (FrameBatcher); larger messages are
 * written straight from the caller's buffer, header and body in one writev (cork/uncork), no copy.
 * At most WINDOW_WRITES writes are outstanding (WriteWindow). The receiver parses frames in place.
 */
import net from 'node:net';
import { FrameBatcher, FRAME_HEADER_BYTES } from '../framing/frame-batcher.js';
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
import { WriteWindow } from './write-window.js';

export const BATCH_BYTES = 64 * 1024;
export const DIRECT_WRITE_MIN = 8 * 1024;
/** Outstanding writes: 32 batches = 2 MiB, about ten times the kernel's socket buffer. */
const WINDOW_WRITES = 32;
/** Outstanding writes when each message is its own write. */
const WINDOW_SINGLE_WRITES = 4096;
/** Check the clock every this many messages, not on each one. */
const CLOCK_EVERY = 64;

export interface Listening<T> {
  address: string;
  accepted: Promise<T>;
}

/** Listens on `path` for exactly one connection. */
export async function listenUnixSocket(path: string): Promise<Listening<net.Socket>> {
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve, reject) => {
    server.once('connection', (socket) => {
      server.close();
      resolve(socket);
    });
    server.once('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return { address: path, accepted };
}

export function connectUnixSocket(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path, () => resolve(socket));
    socket.once('error', reject);
  });
}

export class UnixSocketEndpoint implements MessageEndpoint {
  constructor(
    private readonly socket: net.Socket,
    /** Stream sender only: skip batching, as a naive user would (reported separately). */
    private readonly oneWritePerMessage = false,
  ) {
    socket.pause();
  }

  receiveStream(spec: StreamSpec): Promise<StreamReceiveResult> {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      const checker = new StreamChecker(spec.size);
      const finish = (error?: unknown): void => {
        socket.pause();
        socket.off('data', onData);
        if (error !== undefined) reject(error);
        else resolve({ endNs: hrtimeNs(), received: checker.received });
      };
      const parser = new FrameParser((bytes, offset, length) => {
        if (checker.accept(bytes, offset, length)) finish();
      }, spec.size);
      const onData = (chunk: Buffer): void => {
        try {
          parser.push(chunk);
        } catch (error) {
          finish(error);
        }
      };
      socket.on('data', onData);
      socket.resume();
    });
  }

  async sendStream(spec: StreamSpec): Promise<StreamSendResult> {
    const socket = this.socket;
    const payload = makePayload(spec.size);
    const window = new WriteWindow(this.oneWritePerMessage ? WINDOW_SINGLE_WRITES : WINDOW_WRITES);
    const deadline = performance.now() + spec.durationMs;
    const startNs = hrtimeNs();
    let sent = 0;
    if (this.oneWritePerMessage) {
      const writeFrame = (sequence: number): void => {
        const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + spec.size);
        frame.writeUInt32LE(spec.size, 0);
        payload.copy(frame, FRAME_HEADER_BYTES);
        writeSequence(frame, FRAME_HEADER_BYTES, sequence);
        window.acquire();
        socket.write(frame, window.release);
      };
      for (;;) {
        for (let i = 0; i < CLOCK_EVERY; i++) {
          writeFrame(sent++);
          if (window.full) await window.drained();
        }
        if (performance.now() >= deadline) break;
      }
      writeFrame(END_OF_STREAM);
    } else if (spec.size < DIRECT_WRITE_MIN) {
      const batcher = new FrameBatcher(BATCH_BYTES, (batch, done) => {
        window.acquire();
        socket.write(batch, () => {
          done();
          window.release();
        });
      });
      for (;;) {
        for (let i = 0; i < CLOCK_EVERY; i++) batcher.append(payload, sent++);
        if (window.full) await window.drained();
        if (performance.now() >= deadline) break;
      }
      batcher.append(payload, END_OF_STREAM);
      batcher.flush();
    } else {
      const body = payload.subarray(FRAME_HEADER_BYTES);
      const writeFrame = (sequence: number): void => {
        // The header must be its own buffer: earlier ones may still be queued.
        const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES * 2);
        header.writeUInt32LE(spec.size, 0);
        writeSequence(header, FRAME_HEADER_BYTES, sequence);
        window.acquire();
        socket.cork();
        socket.write(header);
        socket.write(body, window.release);
        socket.uncork();
      };
      for (;;) {
        writeFrame(sent++);
        if (window.full) await window.drained();
        if (performance.now() >= deadline) break;
      }
      writeFrame(END_OF_STREAM);
    }
    await window.settled();
    return { startNs, sent };
  }

  serveEcho(): void {
    const socket = this.socket;
    const parser = new FrameParser((bytes, offset, length) => {
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
      frame.writeUInt32LE(length, 0);
      frame.set(bytes.subarray(offset, offset + length), FRAME_HEADER_BYTES);
      socket.write(frame);
    }, 64 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.resume();
  }

  pingPong(spec: PingPongSpec): Promise<RoundTripSamples> {
    const socket = this.socket;
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + spec.size);
    frame.writeUInt32LE(spec.size, 0);
    makePayload(spec.size).copy(frame, FRAME_HEADER_BYTES);
    const total = spec.warmup + spec.iterations;
    const rttNs = new Array<number>(spec.iterations);
    return new Promise((resolve, reject) => {
      let done = 0;
      let sentAt = 0;
      const parser = new FrameParser((_bytes, _offset, length) => {
        const now = performance.now();
        if (length !== spec.size) {
          finish(new Error(`echo of ${length} bytes, expected ${spec.size}`));
          return;
        }
        if (done >= spec.warmup) rttNs[done - spec.warmup] = (now - sentAt) * 1e6;
        if (++done === total) {
          finish();
          return;
        }
        sentAt = performance.now();
        socket.write(frame);
      }, spec.size);
      const onData = (chunk: Buffer): void => parser.push(chunk);
      const finish = (error?: Error): void => {
        socket.pause();
        socket.off('data', onData);
        if (error !== undefined) reject(error);
        else resolve({ rttNs });
      };
      socket.on('data', onData);
      socket.resume();
      sentAt = performance.now();
      socket.write(frame);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.end(() => resolve());
    });
    this.socket.destroy();
  }
}
