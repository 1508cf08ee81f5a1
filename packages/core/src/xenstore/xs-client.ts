/**
 * A xenstore client speaking xs_wire over any byte stream: the xenstored Unix socket, the
 * /dev/xen/xenbus device, or the simulated host's socket. Requests are matched to replies by
 * req_id; WATCH_EVENT messages become 'watch' events.
 *
 * Requests are pipelined, with one exception for the xenbus device (`watchNeedsQuietConnection`).
 * Linux's /dev/xen/xenbus (drivers/xen/xenbus/xenbus_dev_frontend.c, checked in 6.1) handles a
 * written WATCH or UNWATCH synchronously while holding the file's msgbuffer_mutex, and its xenbus
 * kthread takes that same mutex to queue the reply of any earlier request of the file
 * (xenbus_dev_queue_reply). The kthread handles replies in order, so a reply still due when a
 * (UN)WATCH is written blocks it for good: the (UN)WATCH's own reply is behind it, and xenstore
 * hangs for the whole domain ("task xenbus blocked for more than 120 seconds"). So there, a
 * WATCH/UNWATCH is written only once every earlier request has its reply, and the requests after
 * it wait for its reply; everything stays in the order it was asked.
 */
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import type { DomId, XenStore, XenStoreEvents, XsPermission, XsTransaction } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';
import { runTransaction } from './run-transaction.js';
import { formatXsPermission, parseXsPermission } from './xs-permissions.js';
import {
  encodeXsMessage,
  nulTerminated,
  splitNul,
  XS_PAYLOAD_MAX,
  XsFrameDecoder,
  XsMessageType,
  type XsMessage,
} from './xs-wire.js';

interface PendingRequest {
  resolve: (payload: Buffer) => void;
  reject: (err: Error) => void;
  operation: string;
  path: string | undefined;
}

/** A request waiting for its turn to be written (see the top of this file). */
interface QueuedRequest {
  reqId: number;
  message: Buffer;
  /** Must be written alone: nothing else awaiting a reply before or while it is. */
  alone: boolean;
}

export interface XenStoreClientOptions {
  /** Names the transport in error messages ("/var/run/xenstored/socket"). Default 'xenstore'. */
  description?: string;
  /**
   * The transport is Linux's xenbus device: write WATCH/UNWATCH only on a quiet connection (see
   * the top of this file). Default false (sockets pipeline everything).
   */
  watchNeedsQuietConnection?: boolean;
}

const OPERATION_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(XsMessageType).map(([name, value]) => [value, `XS_${name}`]),
);

export class XenStoreClient extends EventEmitter<XenStoreEvents> implements XenStore {
  readonly #stream: Duplex;
  readonly #decoder = new XsFrameDecoder();
  readonly #pending = new Map<number, PendingRequest>();
  readonly #description: string;
  readonly #watchNeedsQuietConnection: boolean;
  /** Requests not yet written, in the order they were made. */
  readonly #queue: QueuedRequest[] = [];
  /** Written requests still awaiting their reply. */
  readonly #inFlight = new Set<number>();
  /** The request written alone that awaits its reply, if any. */
  #aloneInFlight: number | undefined;
  #nextReqId = 1;
  #closed = false;

  /** A string option is the description (the former signature). */
  constructor(stream: Duplex, options: XenStoreClientOptions | string = {}) {
    super();
    const { description = 'xenstore', watchNeedsQuietConnection = false } = typeof options === 'string' ? { description: options } : options;
    this.#stream = stream;
    this.#description = description;
    this.#watchNeedsQuietConnection = watchNeedsQuietConnection;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('error', (err: Error) => this.#shutDown(err));
    stream.on('close', () => this.#shutDown());
  }

  get closed(): boolean {
    return this.#closed;
  }

  async read(path: string, tx: XsTransaction = 0): Promise<string> {
    return (await this.#request(XsMessageType.READ, tx, nulTerminated(path), path)).toString('utf8');
  }

  async write(path: string, value: string, tx: XsTransaction = 0): Promise<void> {
    const payload = Buffer.concat([nulTerminated(path), Buffer.from(value, 'utf8')]);
    await this.#request(XsMessageType.WRITE, tx, payload, path);
  }

  async mkdir(path: string, tx: XsTransaction = 0): Promise<void> {
    await this.#request(XsMessageType.MKDIR, tx, nulTerminated(path), path);
  }

  async rm(path: string, tx: XsTransaction = 0): Promise<void> {
    await this.#request(XsMessageType.RM, tx, nulTerminated(path), path);
  }

  async directory(path: string, tx: XsTransaction = 0): Promise<string[]> {
    return splitNul(await this.#request(XsMessageType.DIRECTORY, tx, nulTerminated(path), path));
  }

  async getPerms(path: string, tx: XsTransaction = 0): Promise<XsPermission[]> {
    const reply = await this.#request(XsMessageType.GET_PERMS, tx, nulTerminated(path), path);
    return splitNul(reply).map((text) => {
      const permission = parseXsPermission(text);
      if (permission === undefined) throw this.#badReply('XS_GET_PERMS', path, `permission "${text}"`);
      return permission;
    });
  }

  async setPerms(path: string, perms: readonly XsPermission[], tx: XsTransaction = 0): Promise<void> {
    await this.#request(XsMessageType.SET_PERMS, tx, nulTerminated(path, ...perms.map(formatXsPermission)), path);
  }

  async watch(path: string, token: string): Promise<void> {
    await this.#request(XsMessageType.WATCH, 0, nulTerminated(path, token), path);
  }

  async unwatch(path: string, token: string): Promise<void> {
    await this.#request(XsMessageType.UNWATCH, 0, nulTerminated(path, token), path);
  }

  async transactionStart(): Promise<XsTransaction> {
    const [id] = splitNul(await this.#request(XsMessageType.TRANSACTION_START, 0, nulTerminated(''), undefined));
    const tx = Number(id);
    if (id === undefined || !/^[0-9]+$/.test(id) || tx === 0 || tx > 0xffff_ffff) {
      throw this.#badReply('XS_TRANSACTION_START', undefined, `transaction id "${String(id)}"`);
    }
    return tx;
  }

  async transactionEnd(tx: XsTransaction, commit: boolean): Promise<void> {
    await this.#request(XsMessageType.TRANSACTION_END, tx, nulTerminated(commit ? 'T' : 'F'), undefined);
  }

  transaction<T>(fn: (tx: XsTransaction) => Promise<T>, retries?: number): Promise<T> {
    return runTransaction(this, fn, retries);
  }

  async getDomainPath(domid: DomId): Promise<string> {
    const [path] = splitNul(await this.#request(XsMessageType.GET_DOMAIN_PATH, 0, nulTerminated(String(domid)), undefined));
    if (path === undefined) throw this.#badReply('XS_GET_DOMAIN_PATH', undefined, 'an empty reply');
    return path;
  }

  close(): void {
    if (this.#closed) return;
    this.#stream.end();
    this.#stream.destroy();
    this.#shutDown();
  }

  #request(type: number, tx: XsTransaction, payload: Buffer, path: string | undefined): Promise<Buffer> {
    const operation = OPERATION_NAMES[type] ?? `XS_${type}`;
    if (this.#closed) {
      return Promise.reject(new XenError({ code: 'ENOTCONN', syscall: operation, path, message: `${this.#description} connection is closed` }));
    }
    if (payload.length > XS_PAYLOAD_MAX) {
      return Promise.reject(new XenError({
        code: 'E2BIG', syscall: operation, path,
        message: `${operation} request of ${payload.length} bytes exceeds xenstore's ${XS_PAYLOAD_MAX}-byte limit`,
      }));
    }
    const reqId = this.#nextReqId;
    this.#nextReqId = this.#nextReqId >= 0xffff_ffff ? 1 : this.#nextReqId + 1;
    const alone = this.#watchNeedsQuietConnection && (type === XsMessageType.WATCH || type === XsMessageType.UNWATCH);
    return new Promise<Buffer>((resolve, reject) => {
      this.#pending.set(reqId, { resolve, reject, operation, path });
      this.#queue.push({ reqId, message: encodeXsMessage(type, reqId, tx, payload), alone });
      this.#writeQueued();
    });
  }

  /** Write what may go now: in order, stopping at a request that must wait (top of this file). */
  #writeQueued(): void {
    while (this.#queue.length > 0 && this.#aloneInFlight === undefined) {
      const next = this.#queue[0]!;
      if (next.alone && this.#inFlight.size > 0) return;
      this.#queue.shift();
      this.#inFlight.add(next.reqId);
      if (next.alone) this.#aloneInFlight = next.reqId;
      this.#stream.write(next.message);
    }
  }

  #onData(chunk: Buffer): void {
    let messages: XsMessage[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (err) {
      this.#stream.destroy();
      this.#shutDown(new XenError({ code: 'EPROTO', syscall: 'read', message: `${this.#description} sent a malformed message: ${(err as Error).message}`, cause: err }));
      return;
    }
    for (const message of messages) this.#dispatch(message);
  }

  #dispatch(message: XsMessage): void {
    if (message.type === XsMessageType.WATCH_EVENT) {
      const [path, token] = splitNul(message.payload);
      if (path !== undefined && token !== undefined) this.emit('watch', { path, token });
      return;
    }
    // A reply to nothing we asked (or to a request not yet written): ignore, like libxenstore.
    if (!this.#inFlight.delete(message.reqId)) return;
    const request = this.#pending.get(message.reqId)!;
    this.#pending.delete(message.reqId);
    if (this.#aloneInFlight === message.reqId) this.#aloneInFlight = undefined;
    this.#writeQueued();
    if (message.type === XsMessageType.ERROR) {
      const code = splitNul(message.payload)[0] ?? 'EIO';
      const where = request.path === undefined ? '' : ` on ${request.path}`;
      request.reject(new XenError({ code, syscall: request.operation, path: request.path, message: `xenstore ${request.operation}${where} failed: ${code}` }));
      return;
    }
    request.resolve(message.payload);
  }

  #badReply(operation: string, path: string | undefined, what: string): XenError {
    return new XenError({ code: 'EPROTO', syscall: operation, path, message: `${this.#description} replied with ${what}, which is not valid xs_wire` });
  }

  #shutDown(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    const failure = new XenError({ code: 'ECONNRESET', syscall: 'read', message: `${this.#description} connection closed`, cause: err });
    for (const request of this.#pending.values()) request.reject(err instanceof XenError ? err : failure);
    this.#pending.clear();
    this.#queue.length = 0;
    this.#inFlight.clear();
    this.#aloneInFlight = undefined;
    this.emit('close', err);
  }
}
