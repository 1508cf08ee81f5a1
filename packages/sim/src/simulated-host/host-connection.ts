/** A domain process's control connection to the sim host: requests with replies, plus pushes. */
import type { Socket } from 'node:net';
import { XenError } from '@xenipc/core';
import { ControlFrameDecoder, encodeControlFrame } from './control-frames.js';
import type { ErrorReply, HostPush } from './host-protocol.js';

interface Pending {
  resolve: (reply: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

export class HostConnection {
  readonly #socket: Socket;
  readonly #decoder = new ControlFrameDecoder();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  onPush: (push: HostPush) => void = () => undefined;
  onClose: (err: Error) => void = () => undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.#shutDown());
  }

  get socket(): Socket {
    return this.#socket;
  }

  request<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.#closed) return Promise.reject(this.#lost(op));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (reply: Record<string, unknown>) => void, reject });
      this.#socket.write(encodeControlFrame({ ...args, id, op }));
    });
  }

  /** A request whose answer nobody waits for (ordering on the connection still holds). */
  send(op: string, args: Record<string, unknown> = {}): void {
    this.request(op, args).catch(() => undefined);
  }

  close(): void {
    this.#socket.end();
    this.#socket.destroy();
    this.#shutDown();
  }

  #onData(chunk: Buffer): void {
    let messages: Record<string, unknown>[];
    try {
      messages = this.#decoder.push(chunk);
    } catch {
      this.#socket.destroy();
      return;
    }
    for (const message of messages) {
      if (typeof message.push === 'string') {
        this.onPush(message as unknown as HostPush);
        continue;
      }
      const pending = this.#pending.get(message.id as number);
      if (pending === undefined) continue;
      this.#pending.delete(message.id as number);
      const error = message.error as ErrorReply | undefined;
      if (error !== undefined) pending.reject(new XenError({ code: error.code, syscall: error.syscall, message: error.message }));
      else pending.resolve(message);
    }
  }

  #lost(op: string): XenError {
    return new XenError({ code: 'ENOTCONN', syscall: op, message: 'the simulated Xen host went away' });
  }

  #shutDown(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = this.#lost('read');
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
    this.onClose(err);
  }
}
