/**
 * One msgpack-rpc connection endpoint. Both sides of a connection are RpcPeers: each can register
 * handlers and make calls, over any RpcTransport.
 *
 * Wire (MessagePack-RPC spec): request [0, msgid, method, params], response [1, msgid, error,
 * result], notification [2, method, params]; msgid is a u32 that wraps. Errors travel as the object
 * documented in wire/wire-error.ts.
 *
 * Bad input never throws out of here: it is counted in `stats`, reported through the
 * 'protocol-error' event and the message is dropped. A request whose msgid can be read gets an
 * error response (InvalidRequest / MethodNotFound / Overloaded) so the caller is not left waiting.
 */
import { EventEmitter } from 'eventemitter3';
import type { Packr, Unpackr } from 'msgpackr';
import { ConnectionClosedError } from '../errors/connection-closed-error.js';
import { RpcErrorNames } from '../errors/rpc-error-names.js';
import { RpcTimeoutError } from '../errors/rpc-timeout-error.js';
import type { RpcCloseReason, MalformedKind, RpcTransport, RpcTransportSink } from '../transport/rpc-transport.js';
import { createWirePackr, createWireUnpackr } from '../wire/msgpack-codec.js';
import { remoteErrorFromWire, wireErrorFrom, type WireError } from '../wire/wire-error.js';
import { PendingCalls, type PendingCall } from './pending-calls.js';
import { RequestQueue } from './request-queue.js';
import type { CallOptions, RpcProxy } from './rpc-proxy.js';
import { createRpcStats, type RpcStats } from './rpc-stats.js';

const REQUEST = 0;
const RESPONSE = 1;
const NOTIFICATION = 2;
const MAX_MSGID = 0xffffffff;
/** msgid used internally to mark a queued notification (no response). */
const NO_RESPONSE = -1;
/**
 * Default-timeout calls are expired by one timer ticking every timeout/TIMEOUT_TICKS: a call
 * made at tick e expires at tick e + TIMEOUT_TICKS + 1, after at least the timeout and at most
 * 1/TIMEOUT_TICKS more (timers never fire early). No clock read per call.
 */
const TIMEOUT_TICKS = 16;

// `any`: a handler declares the parameter types it expects; the wire gives no static types
export type RpcHandler = (...params: any[]) => unknown;

export interface RpcPeerOptions {
  /** Default per-call timeout in ms (default 30,000; 0 disables). */
  timeoutMs?: number;
  /** Handlers running at once (async handlers count until they settle; default 1024). */
  maxConcurrentHandlers?: number;
  /**
   * Requests waiting for a handler slot. When the queue reaches this size, incoming delivery is
   * paused until it is half empty; requests still arriving beyond twice this size (already read
   * before the pause took effect) are answered with an Overloaded error. Default 16,384.
   */
  maxQueuedRequests?: number;
  /** How many msgids of timed-out/aborted calls to remember, to count their late responses (default 16,384). */
  abandonedIdMemory?: number;
}

export interface ProtocolErrorEvent {
  kind: MalformedKind | 'unknown-response';
  detail: string;
}

export interface RpcPeerEvents {
  /** The connection ended; every pending call has been rejected with this error. */
  close: (error: ConnectionClosedError) => void;
  /** Bad input was dropped (the connection continues). */
  'protocol-error': (event: ProtocolErrorEvent) => void;
  /** A notification handler threw or rejected (there is no caller to tell). */
  'handler-error': (error: unknown, method: string) => void;
}

// One shared Promise executor instead of a closure per call: it parks the settle functions here.
let parkedResolve: (value: unknown) => void = () => {};
let parkedReject: (reason: unknown) => void = () => {};
function parkSettlers(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  parkedResolve = resolve;
  parkedReject = reject;
}

function isMsgid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_MSGID;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function')
    && typeof (value as { then?: unknown }).then === 'function';
}

export class RpcPeer extends EventEmitter<RpcPeerEvents> {
  /** Live counters; see RpcStats. */
  readonly stats: RpcStats = createRpcStats();
  private readonly packr: Packr = createWirePackr();
  private readonly unpackr: Unpackr = createWireUnpackr();
  private readonly unpackRange = { start: 0, end: 0 };
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly pending = new PendingCalls();
  private readonly abandoned = new Set<number>();
  private readonly queue = new RequestQueue();
  private readonly defaultTimeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly abandonedIdMemory: number;
  private readonly maxMessageBytes: number;
  private nextMsgid = 0;
  private running = 0;
  private pausedForQueue = false;
  private sweepTimer: ReturnType<typeof setTimeout> | undefined;
  /** Timeout ticks so far (see TIMEOUT_TICKS); advances only while the sweep timer runs. */
  private tick = 0;
  private closeError: ConnectionClosedError | undefined;
  private readonly sweepBound = (): void => this.sweepTimeouts();

  constructor(private readonly transport: RpcTransport, options: RpcPeerOptions = {}) {
    super();
    this.defaultTimeoutMs = options.timeoutMs ?? 30_000;
    this.maxConcurrent = Math.max(1, options.maxConcurrentHandlers ?? 1024);
    this.maxQueued = Math.max(1, options.maxQueuedRequests ?? 16_384);
    this.abandonedIdMemory = options.abandonedIdMemory ?? 16_384;
    this.maxMessageBytes = transport.maxMessageBytes;
    const sink: RpcTransportSink = {
      message: (buf, start, end) => this.receive(buf, start, end),
      malformed: (kind, detail) => this.reportMalformed(kind, detail),
      // nothing waits for drain: reading is never paused for our own output (README, Backpressure)
      drain: () => {},
      closed: (reason, cause) => this.onClosed(reason, cause),
    };
    transport.attach(sink);
  }

  /** True once the connection has ended (see `closeReason`). */
  get isClosed(): boolean {
    return this.closeError !== undefined;
  }

  get closeReason(): RpcCloseReason | undefined {
    return this.closeError?.reason;
  }

  /** Calls waiting for a response. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /** Requests waiting for a handler slot (bounded, see maxQueuedRequests). */
  get queuedRequests(): number {
    return this.queue.length;
  }

  /** Handlers currently running asynchronously. */
  get runningHandlers(): number {
    return this.running;
  }

  /** Serve `method` with `handler` (replacing any previous one). Its return value or promise is the result. */
  register(method: string, handler: RpcHandler): this {
    this.handlers.set(method, handler);
    return this;
  }

  unregister(method: string): this {
    this.handlers.delete(method);
    return this;
  }

  /** Serve every method of `impl` (own and inherited from its class, not from Object), bound to it. */
  expose<Api extends object>(impl: Api): this {
    for (let proto: object | null = impl; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor' || this.handlers.has(name)) continue;
        // only plain methods: reading an accessor here could run arbitrary code
        const value: unknown = Object.getOwnPropertyDescriptor(proto, name)?.value;
        if (typeof value === 'function') this.handlers.set(name, (value as RpcHandler).bind(impl));
      }
    }
    return this;
  }

  /** Call `method` on the other side with the default timeout. */
  call<R = unknown>(method: string, ...params: unknown[]): Promise<R> {
    return this.send(method, params, this.defaultTimeoutMs, undefined) as Promise<R>;
  }

  /** Call with a per-call timeout and/or AbortSignal. */
  callWith<R = unknown>(options: CallOptions, method: string, ...params: unknown[]): Promise<R> {
    return this.send(method, params, options.timeoutMs ?? this.defaultTimeoutMs, options.signal) as Promise<R>;
  }

  /** Send a notification (no response). Returns false if it could not be sent (closed, unencodable, too large). */
  notify(method: string, ...params: unknown[]): boolean {
    if (this.closeError) return false;
    let bytes: Uint8Array;
    try {
      bytes = this.packr.pack([NOTIFICATION, method, params]);
    } catch {
      return false;
    }
    if (bytes.length > this.maxMessageBytes) return false;
    this.stats.notificationsSent++;
    this.transport.send(bytes);
    return true;
  }

  /** A typed client: `peer.proxy<Api>().method(...args)` is `peer.call('method', ...args)`. */
  proxy<Api>(options?: CallOptions): RpcProxy<Api> {
    const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    return new Proxy(Object.create(null) as object, {
      get: (_target, property) => {
        // not a thenable: `await peer.proxy()` must not call a remote 'then'
        if (typeof property !== 'string' || property === 'then') return undefined;
        let fn = cache.get(property);
        if (fn === undefined) {
          fn = options
            ? (...args) => this.callWith(options, property, ...args)
            : (...args) => this.send(property, args, this.defaultTimeoutMs, undefined);
          cache.set(property, fn);
        }
        return fn;
      },
    }) as RpcProxy<Api>;
  }

  /** End the connection. Pending calls reject with ConnectionClosedError('closed'). */
  close(): void {
    if (this.closeError) return;
    this.transport.close();
    // a transport that does not report synchronously is still considered closed from here on
    this.onClosed('closed');
  }

  // ---- calls ----------------------------------------------------------------------------------

  private send(method: string, params: unknown[], timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.closeError) {
      this.stats.callsClosed++;
      return Promise.reject(this.closeError);
    }
    if (signal?.aborted) {
      this.stats.callsAborted++;
      return Promise.reject(signal.reason);
    }
    const msgid = this.allocateMsgid();
    let bytes: Uint8Array;
    try {
      bytes = this.packr.pack([REQUEST, msgid, method, params]);
    } catch (error) {
      this.stats.callsUnsendable++;
      return Promise.reject(error);
    }
    if (bytes.length > this.maxMessageBytes) {
      this.stats.callsUnsendable++;
      return Promise.reject(new RangeError(`RPC request '${method}' is ${bytes.length} bytes, above maxMessageBytes ${this.maxMessageBytes}`));
    }
    const promise = new Promise<unknown>(parkSettlers);
    const call: PendingCall = {
      msgid, method, resolve: parkedResolve, reject: parkedReject, deadline: 0,
      timer: undefined, signal: undefined, onAbort: undefined,
    };
    if (timeoutMs > 0) {
      if (timeoutMs === this.defaultTimeoutMs) {
        // calls with the default timeout share one ticking sweep timer (see TIMEOUT_TICKS)
        call.deadline = this.tick + TIMEOUT_TICKS + 1;
        if (this.sweepTimer === undefined) this.armSweep();
      } else {
        call.timer = setTimeout(() => this.expire(msgid, timeoutMs), timeoutMs);
        // the connection, not a timeout, is what should keep a process alive
        call.timer.unref();
      }
    }
    if (signal) {
      call.signal = signal;
      call.onAbort = () => this.abort(msgid);
      signal.addEventListener('abort', call.onAbort, { once: true });
    }
    this.pending.add(call);
    this.stats.callsSent++;
    this.transport.send(bytes);
    return promise;
  }

  private allocateMsgid(): number {
    const pending = this.pending;
    pending.reserve();
    let msgid = this.nextMsgid;
    // skip ids whose pending-table slot is taken (after wrapping: ids still in use), and recently
    // abandoned ids, whose late response may still come
    while (pending.slotTaken(msgid) || (this.abandoned.size > 0 && this.abandoned.has(msgid))) {
      msgid = msgid === MAX_MSGID ? 0 : msgid + 1;
    }
    this.nextMsgid = msgid === MAX_MSGID ? 0 : msgid + 1;
    return msgid;
  }

  /** Remove a pending call and release its timer and abort listener. */
  private take(msgid: number): PendingCall | undefined {
    const call = this.pending.remove(msgid);
    if (call === undefined) return undefined;
    if (this.pending.size === 0 && this.sweepTimer !== undefined) {
      // nothing left to expire: do not keep a timer (and possibly the process) alive for it
      clearTimeout(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal!.removeEventListener('abort', call.onAbort);
    return call;
  }

  private abandon(msgid: number): void {
    this.abandoned.add(msgid);
    if (this.abandoned.size > this.abandonedIdMemory) {
      this.abandoned.delete(this.abandoned.values().next().value as number);
    }
  }

  private expire(msgid: number, timeoutMs: number): void {
    const call = this.take(msgid);
    if (call === undefined) return;
    this.abandon(msgid);
    this.stats.callsTimedOut++;
    call.reject(new RpcTimeoutError(call.method, timeoutMs));
  }

  private abort(msgid: number): void {
    const call = this.take(msgid);
    if (call === undefined) return;
    this.abandon(msgid);
    this.stats.callsAborted++;
    call.reject(call.signal!.reason);
  }

  private armSweep(): void {
    this.sweepTimer = setTimeout(this.sweepBound, this.defaultTimeoutMs / TIMEOUT_TICKS);
    this.sweepTimer.unref();
  }

  /** One tick: expire default-timeout calls whose tick came; keep ticking while others wait. */
  private sweepTimeouts(): void {
    this.sweepTimer = undefined;
    const tick = ++this.tick;
    let waiting = false;
    for (const call of this.pending.all()) {
      if (call.deadline === 0) continue;
      if (call.deadline > tick) waiting = true;
      else this.expire(call.msgid, this.defaultTimeoutMs);
    }
    if (waiting && this.sweepTimer === undefined && this.closeError === undefined) this.armSweep();
  }

  // ---- incoming ---------------------------------------------------------------------------------

  private receive(buf: Uint8Array, start: number, end: number): void {
    // a handler may have closed the connection while the rest of a chunk is being delivered
    if (this.closeError) return;
    let message: unknown;
    const range = this.unpackRange;
    range.start = start;
    range.end = end;
    try {
      message = this.unpackr.unpack(buf, range);
    } catch (error) {
      this.reportMalformed('decode', error instanceof Error ? error.message : String(error));
      return;
    }
    if (!Array.isArray(message)) {
      this.reportMalformed('shape', 'message is not an array');
      return;
    }
    switch (message[0]) {
      case RESPONSE: this.receiveResponse(message); break;
      case REQUEST: this.receiveRequest(message); break;
      case NOTIFICATION: this.receiveNotification(message); break;
      default: this.reportMalformed('shape', 'message type is not 0, 1 or 2');
    }
  }

  private receiveResponse(message: unknown[]): void {
    const msgid = message[1];
    if (message.length !== 4 || !isMsgid(msgid)) {
      this.reportMalformed('shape', 'response is not [1, msgid, error, result]');
      return;
    }
    const call = this.take(msgid);
    if (call === undefined) {
      if (this.abandoned.delete(msgid)) {
        this.stats.lateResponses++;
      } else {
        this.stats.unknownResponses++;
        this.emit('protocol-error', { kind: 'unknown-response', detail: `response for unknown msgid ${msgid}` });
      }
      return;
    }
    const error = message[2];
    if (error === null || error === undefined) {
      this.stats.callsSucceeded++;
      call.resolve(message[3]);
    } else {
      this.stats.callsFailed++;
      call.reject(remoteErrorFromWire(error));
    }
  }

  private receiveRequest(message: unknown[]): void {
    const msgid = message[1];
    if (!isMsgid(msgid)) {
      this.reportMalformed('shape', 'request msgid is not a u32');
      return;
    }
    const method = message[2];
    const params = message[3];
    if (message.length !== 4 || typeof method !== 'string' || !Array.isArray(params)) {
      this.reportMalformed('shape', 'request is not [0, msgid, method: string, params: array]');
      this.respondError(msgid, { name: RpcErrorNames.InvalidRequest, message: 'request must be [0, msgid, method: string, params: array]' });
      return;
    }
    this.stats.requestsReceived++;
    const handler = this.handlers.get(method);
    if (handler === undefined) {
      this.stats.methodNotFound++;
      this.respondError(msgid, { name: RpcErrorNames.MethodNotFound, message: `no handler for method '${method}'` });
      return;
    }
    this.dispatch(msgid, handler, method, params);
  }

  private receiveNotification(message: unknown[]): void {
    const method = message[1];
    const params = message[2];
    if (message.length !== 3 || typeof method !== 'string' || !Array.isArray(params)) {
      this.reportMalformed('shape', 'notification is not [2, method: string, params: array]');
      return;
    }
    this.stats.notificationsReceived++;
    const handler = this.handlers.get(method);
    if (handler === undefined) {
      this.stats.unknownNotifications++;
      return;
    }
    this.dispatch(NO_RESPONSE, handler, method, params);
  }

  private dispatch(msgid: number, handler: RpcHandler, method: string, params: unknown[]): void {
    if (this.running < this.maxConcurrent && this.queue.length === 0) {
      this.run(msgid, handler, method, params);
      return;
    }
    if (this.queue.length >= this.maxQueued * 2) {
      // read before the pause took effect and beyond the slack: refuse rather than grow
      this.stats.overloaded++;
      if (msgid !== NO_RESPONSE) {
        this.respondError(msgid, { name: RpcErrorNames.Overloaded, message: 'request queue is full' });
      }
      return;
    }
    this.queue.push(msgid, handler, method, params);
    if (this.queue.length >= this.maxQueued && !this.pausedForQueue) {
      this.pausedForQueue = true;
      this.stats.pauses++;
      this.transport.pause();
    }
  }

  private run(msgid: number, handler: RpcHandler, method: string, params: unknown[]): void {
    let result: unknown;
    try {
      result = handler(...params);
    } catch (error) {
      this.finish(msgid, method, undefined, error, true);
      return;
    }
    if (isThenable(result)) {
      this.running++;
      result.then(
        (value) => { this.running--; this.finish(msgid, method, value, undefined, false); this.pump(); },
        (error: unknown) => { this.running--; this.finish(msgid, method, undefined, error, true); this.pump(); },
      );
      return;
    }
    this.finish(msgid, method, result, undefined, false);
  }

  /** Start queued handlers while there are free slots; resume delivery once the queue has room. */
  private pump(): void {
    const queue = this.queue;
    while (this.running < this.maxConcurrent && queue.length > 0 && !this.closeError) {
      queue.shift();
      this.run(queue.msgid, queue.handler!, queue.method, queue.params!);
    }
    if (this.pausedForQueue && queue.length <= this.maxQueued >> 1) {
      this.pausedForQueue = false;
      this.transport.resume();
    }
  }

  private finish(msgid: number, method: string, value: unknown, error: unknown, failed: boolean): void {
    if (msgid === NO_RESPONSE) {
      if (failed) {
        this.stats.notificationErrors++;
        this.emit('handler-error', error, method);
      }
      return;
    }
    if (failed) this.respondError(msgid, wireErrorFrom(error));
    else this.respondResult(msgid, value);
  }

  private respondResult(msgid: number, value: unknown): void {
    if (this.closeError) return;
    let bytes: Uint8Array;
    try {
      bytes = this.packr.pack([RESPONSE, msgid, null, value]);
    } catch (error) {
      this.respondError(msgid, {
        name: RpcErrorNames.EncodeError,
        message: `result could not be encoded: ${error instanceof Error ? error.message : String(error)}`,
      });
      return;
    }
    if (bytes.length > this.maxMessageBytes) {
      this.respondError(msgid, {
        name: RpcErrorNames.EncodeError,
        message: `result is ${bytes.length} bytes, above maxMessageBytes ${this.maxMessageBytes}`,
      });
      return;
    }
    this.stats.responsesSent++;
    this.transport.send(bytes);
  }

  private respondError(msgid: number, error: WireError): void {
    if (this.closeError) return;
    let bytes: Uint8Array;
    try {
      bytes = this.packr.pack([RESPONSE, msgid, error, null]);
    } catch {
      // error.data could not be encoded: send the error without it
      bytes = this.packr.pack([RESPONSE, msgid, { name: error.name, message: error.message }, null]);
    }
    if (bytes.length > this.maxMessageBytes) {
      bytes = this.packr.pack([RESPONSE, msgid, { name: error.name, message: error.message.slice(0, 1024) }, null]);
    }
    this.stats.responsesSent++;
    this.transport.send(bytes);
  }

  private reportMalformed(kind: MalformedKind, detail: string): void {
    const stats = this.stats;
    stats.malformed++;
    switch (kind) {
      case 'oversized': stats.oversized++; break;
      case 'not-msgpack': stats.notMsgpack++; break;
      case 'private-extension': stats.privateExtension++; break;
      case 'decode': stats.decodeErrors++; break;
      case 'shape': stats.badShape++; break;
    }
    this.emit('protocol-error', { kind, detail });
  }

  // ---- close ------------------------------------------------------------------------------------

  private onClosed(reason: RpcCloseReason, cause?: Error): void {
    if (this.closeError) return;
    const error = new ConnectionClosedError(reason, cause ? { cause } : undefined);
    this.closeError = error;
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.queue.clear();
    for (const { msgid } of this.pending.all()) {
      const call = this.take(msgid)!;
      this.stats.callsClosed++;
      call.reject(error);
    }
    this.abandoned.clear();
    this.emit('close', error);
  }
}
