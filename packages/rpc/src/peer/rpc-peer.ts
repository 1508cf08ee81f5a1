/**
 * One msgpack-rpc connection endpoint. Both sides of a connection are RpcPeers: each can register
 * handlers and make calls, over any RpcTransport.
 *
 * Wire (MessagePack-RPC spec): request [0, msgid, method, params], response [1, msgid, error,
 * result], notification [2, method, params]; msgid is a u32 that wraps. Errors travel as
 * documented in wire/wire-error.ts; values are encoded per peer as in wire/msgpack-codec.ts.
 *
 * Bad input never throws out of here: it is counted in `stats`, reported through the
 * 'protocol-error' event and the message is dropped. A request whose msgid can be read gets an
 * error response (InvalidRequest / MethodNotFound / Overloaded) so the caller is not left waiting.
 */
import { EventEmitter } from 'eventemitter3';
import { boundedText, invalidArgType, outOfRange } from '../errors/argument-errors.js';
import { ConnectionClosedError } from '../errors/connection-closed-error.js';
import { RpcDecodeError } from '../errors/rpc-decode-error.js';
import { RpcErrorCodes, RpcErrorNames } from '../errors/rpc-error-names.js';
import { RpcTimeoutError } from '../errors/rpc-timeout-error.js';
import type { RpcCloseReason, MalformedKind, RpcTransport, RpcTransportSink } from '../transport/rpc-transport.js';
import { peekEnvelope } from '../wire/envelope-peek.js';
import { WireCodec } from '../wire/msgpack-codec.js';
import type { RpcExtensionCodec } from '../wire/rpc-extension.js';
import { errorSlots, remoteErrorFromWire, wireErrorFrom, type ErrorFormat, type WireError } from '../wire/wire-error.js';
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
/** Longest piece of peer-supplied text (method names, decoder messages) put into an error text. */
const MAX_ECHOED_CHARS = 64;
const MAX_DETAIL_CHARS = 200;
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
  /**
   * Extension types this peer decodes (and optionally encodes) itself, e.g. Neovim's Buffer (0),
   * Window (1), Tabpage (2). Per peer: two peers in one process never share a registry.
   */
  extensions?: readonly RpcExtensionCodec[];
  /**
   * An ext type with no codec: 'keep' (default) gives an RpcExtension {type, data}, sent back byte
   * for byte; 'error' makes the message undecodable (a response rejects its call with RpcDecodeError).
   */
  unknownExtensions?: 'keep' | 'error';
  /**
   * Receive MessagePack str in params and results as Uint8Array (the raw bytes, which need not be
   * UTF-8) instead of string. Method names, the error slot and map keys stay strings. Default false.
   */
  rawStrings?: boolean;
  /**
   * How failed calls are written: 'array' (default; `[type, message]` that Neovim and plain
   * clients show, details in the result slot) or 'map' (`{name, message, code?, data?}` in the
   * error slot). Either is read back in full by a xenipc peer. See wire/wire-error.ts.
   */
  errorFormat?: ErrorFormat;
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

/** The error without its data (when data cannot be encoded or is too large). */
function withoutData(error: WireError): WireError {
  const copy: WireError = { name: String(error.name), message: String(error.message) };
  if (error.code !== undefined) copy.code = error.code;
  return copy;
}

function checkMethod(method: unknown): asserts method is string {
  if (typeof method !== 'string') throw invalidArgType('method', 'of type string', method);
}

function checkTimeout(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!(value >= 0) || value > 0x7fffffff) throw outOfRange(name, '>= 0 and <= 2147483647 (0: no timeout)', value);
  return value;
}

function checkCount(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > 0x7fffffff) throw outOfRange(name, `an integer >= ${min}`, value);
  return value;
}

function checkCallOptions(options: unknown): asserts options is CallOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const { timeoutMs, signal } = options as CallOptions;
  if (timeoutMs !== undefined) checkTimeout('options.timeoutMs', timeoutMs);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgType('options.signal', 'an AbortSignal', signal);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function')
    && typeof (value as { then?: unknown }).then === 'function';
}

export class RpcPeer extends EventEmitter<RpcPeerEvents> {
  /** Live counters; see RpcStats. */
  readonly stats: RpcStats = createRpcStats();
  private readonly codec: WireCodec;
  private readonly errorFormat: ErrorFormat;
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
    if (typeof transport !== 'object' || transport === null || typeof transport.attach !== 'function' || typeof transport.send !== 'function') {
      throw invalidArgType('transport', 'an RpcTransport', transport);
    }
    if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
    this.defaultTimeoutMs = checkTimeout('options.timeoutMs', options.timeoutMs ?? 30_000);
    this.maxConcurrent = checkCount('options.maxConcurrentHandlers', options.maxConcurrentHandlers ?? 1024, 1);
    this.maxQueued = checkCount('options.maxQueuedRequests', options.maxQueuedRequests ?? 16_384, 1);
    this.abandonedIdMemory = checkCount('options.abandonedIdMemory', options.abandonedIdMemory ?? 16_384, 0);
    const unknownExtensions = options.unknownExtensions ?? 'keep';
    if (unknownExtensions !== 'keep' && unknownExtensions !== 'error') {
      throw invalidArgType('options.unknownExtensions', "'keep' or 'error'", unknownExtensions);
    }
    const errorFormat = options.errorFormat ?? 'array';
    if (errorFormat !== 'array' && errorFormat !== 'map') throw invalidArgType('options.errorFormat', "'array' or 'map'", errorFormat);
    if (options.rawStrings !== undefined && typeof options.rawStrings !== 'boolean') {
      throw invalidArgType('options.rawStrings', 'a boolean', options.rawStrings);
    }
    this.errorFormat = errorFormat;
    this.codec = new WireCodec({ extensions: options.extensions, unknownExtensions, rawStrings: options.rawStrings });
    this.maxMessageBytes = transport.maxMessageBytes;
    const sink: RpcTransportSink = {
      message: (buf, start, end, hasExtension) => this.receive(buf, start, end, hasExtension),
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
    checkMethod(method);
    if (typeof handler !== 'function') throw invalidArgType('handler', 'a function', handler);
    this.handlers.set(method, handler);
    return this;
  }

  unregister(method: string): this {
    checkMethod(method);
    this.handlers.delete(method);
    return this;
  }

  /** Serve every method of `impl` (own and inherited from its class, not from Object), bound to it. */
  expose<Api extends object>(impl: Api): this {
    if ((typeof impl !== 'object' && typeof impl !== 'function') || impl === null) throw invalidArgType('impl', 'an object', impl);
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
    checkCallOptions(options);
    return this.send(method, params, options.timeoutMs ?? this.defaultTimeoutMs, options.signal) as Promise<R>;
  }

  /** Send a notification (no response). Returns false if it could not be sent (closed, unencodable, too large). */
  notify(method: string, ...params: unknown[]): boolean {
    checkMethod(method);
    if (this.closeError) return false;
    let bytes: Uint8Array;
    try {
      bytes = this.codec.encodeNotification(method, params);
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
    if (options !== undefined) checkCallOptions(options);
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

  /** `await using peer = ...`: closes the connection (as close()). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  // ---- calls ----------------------------------------------------------------------------------

  private send(method: string, params: unknown[], timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    checkMethod(method);
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
      bytes = this.codec.encodeRequest(msgid, method, params);
    } catch (error) {
      this.stats.callsUnsendable++;
      return Promise.reject(error);
    }
    if (bytes.length > this.maxMessageBytes) {
      this.stats.callsUnsendable++;
      const error = new RangeError(`RPC request '${boundedText(method, MAX_ECHOED_CHARS)}' is ${bytes.length} bytes, above maxMessageBytes ${this.maxMessageBytes}`);
      return Promise.reject(Object.assign(error, { code: 'ERR_RPC_MESSAGE_TOO_LARGE' }));
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
    // The sweep timer stays armed when the last call settles: a caller making one call at a time
    // would otherwise create and cancel a timer per call (0.6 us of a 1.6 us call, both peers in
    // one process: bench/tools/probe-rpc-loop.ts). It is unref'd, so it keeps no process alive,
    // and its next tick, finding nothing to expire, does not re-arm (see sweepTimeouts); close()
    // clears it.
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

  private receive(buf: Uint8Array, start: number, end: number, hasExtension: boolean | undefined): void {
    // a handler may have closed the connection while the rest of a chunk is being delivered
    if (this.closeError) return;
    let message: unknown;
    try {
      message = this.codec.decode(buf, start, end, hasExtension);
    } catch (error) {
      this.undecodable(buf, start, end, error);
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
      call.reject(remoteErrorFromWire(error, message[3]));
    }
  }

  /**
   * A message that could not be decoded. When its kind and msgid are readable, a response fails
   * its call at once (RpcDecodeError) and a request gets an InvalidRequest response.
   */
  private undecodable(buf: Uint8Array, start: number, end: number, error: unknown): void {
    const detail = boundedText(error instanceof Error ? error.message : String(error), MAX_DETAIL_CHARS);
    this.reportMalformed('decode', detail);
    const envelope = peekEnvelope(buf, start, end);
    if (envelope === undefined) return;
    if (envelope.kind === REQUEST) {
      this.respondError(envelope.msgid, {
        name: RpcErrorNames.InvalidRequest, code: RpcErrorCodes.InvalidRequest, message: `request could not be decoded: ${detail}`,
      });
      return;
    }
    const call = this.take(envelope.msgid);
    if (call === undefined) return;
    this.stats.responsesUndecodable++;
    call.reject(new RpcDecodeError(call.method, detail, { cause: error }));
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
      this.respondError(msgid, {
        name: RpcErrorNames.InvalidRequest, code: RpcErrorCodes.InvalidRequest, message: 'request must be [0, msgid, method: string, params: array]',
      });
      return;
    }
    this.stats.requestsReceived++;
    const handler = this.handlers.get(method);
    if (handler === undefined) {
      this.stats.methodNotFound++;
      this.respondError(msgid, {
        name: RpcErrorNames.MethodNotFound, code: RpcErrorCodes.MethodNotFound, message: `no handler for method '${boundedText(method, MAX_ECHOED_CHARS)}'`,
      });
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
        this.respondError(msgid, { name: RpcErrorNames.Overloaded, code: RpcErrorCodes.Overloaded, message: 'request queue is full' });
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
      bytes = this.codec.encodeResult(msgid, value);
    } catch (error) {
      // the encoder's text may spell out the value (a huge bigint): bounded
      const text = error instanceof Error ? error.message : String(error);
      this.respondError(msgid, {
        name: RpcErrorNames.EncodeError, code: RpcErrorCodes.EncodeError,
        message: `result could not be encoded: ${boundedText(text, MAX_DETAIL_CHARS)}`,
      });
      return;
    }
    if (bytes.length > this.maxMessageBytes) {
      this.respondError(msgid, {
        name: RpcErrorNames.EncodeError, code: RpcErrorCodes.EncodeError,
        message: `result is ${bytes.length} bytes, above maxMessageBytes ${this.maxMessageBytes}`,
      });
      return;
    }
    this.stats.responsesSent++;
    this.transport.send(bytes);
  }

  private respondError(msgid: number, error: WireError): void {
    if (this.closeError) return;
    const format = this.errorFormat;
    let bytes: Uint8Array;
    try {
      bytes = this.codec.encode([RESPONSE, msgid, ...errorSlots(error, format)]);
    } catch {
      // error.data could not be encoded: send the error without it
      bytes = this.codec.encode([RESPONSE, msgid, ...errorSlots(withoutData(error), format)]);
    }
    if (bytes.length > this.maxMessageBytes) {
      const cut = withoutData(error);
      cut.message = cut.message.slice(0, 1024);
      if (typeof cut.code === 'string') cut.code = cut.code.slice(0, 64);
      bytes = this.codec.encode([RESPONSE, msgid, ...errorSlots({ name: cut.name.slice(0, 64), message: cut.message, code: cut.code }, format)]);
    }
    this.stats.responsesSent++;
    this.transport.send(bytes);
  }

  private reportMalformed(kind: MalformedKind, detail: string): void {
    detail = boundedText(detail, MAX_DETAIL_CHARS);
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
