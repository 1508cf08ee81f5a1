/**
 * How a failed call travels in a response `[1, msgid, error, result]`.
 *
 * Written (RpcPeerOptions.errorFormat):
 * - 'array' (default): error = `[type, message]`, result = `{ name, message, code?, data? }`.
 *   `type` is 0 (Neovim's "exception"), or 1 ("validation") for InvalidRequest. Neovim accepts
 *   exactly a string or a two-element `[0|1, string]` here and shows the message (v:exception,
 *   Lua pcall); other msgpack-rpc clients read the error slot and ignore the result of a failed
 *   call. The result slot carries the details a xenipc peer reads back.
 * - 'map': error = `{ name, message, code?, data? }`, result = nil (what xenipc wrote before;
 *   Neovim shows it as "unknown error").
 *
 * Read (hostile input, any shape; see remoteErrorFromWire): both forms above, a bare string, any
 * `[code, message]`, any map with a string `message`; anything else is kept in `data`.
 * Stacks are never sent: they describe the server's internals.
 */
import { boundedText } from '../errors/argument-errors.js';
import { RemoteError } from '../errors/remote-error.js';
import { RpcErrorNames } from '../errors/rpc-error-names.js';

/** The details of a failed call. */
export interface WireError {
  name: string;
  message: string;
  code?: string | number;
  data?: unknown;
}

export type ErrorFormat = 'array' | 'map';

/** Neovim's error types (the first element of `[type, message]`). */
const NEOVIM_EXCEPTION = 0;
const NEOVIM_VALIDATION = 1;

/** The error and result slots of a response reporting `error`. */
export function errorSlots(error: WireError, format: ErrorFormat): [unknown, unknown] {
  if (format === 'map') return [error, null];
  const type = error.name === RpcErrorNames.InvalidRequest ? NEOVIM_VALIDATION : NEOVIM_EXCEPTION;
  return [[type, error.message], error];
}

/** Turn whatever a handler threw into the wire error object. */
export function wireErrorFrom(thrown: unknown): WireError {
  if (thrown instanceof Error) {
    const wire: WireError = { name: thrown.name || 'Error', message: thrown.message };
    const { code, data } = thrown as Error & { code?: unknown; data?: unknown };
    if (typeof code === 'string' || typeof code === 'number') wire.code = code;
    if (data !== undefined) wire.data = data;
    return wire;
  }
  if (typeof thrown === 'object' && thrown !== null) {
    const { name, message, code, data } = thrown as Record<string, unknown>;
    if (typeof message === 'string') {
      const wire: WireError = { name: typeof name === 'string' ? name : 'Error', message };
      if (typeof code === 'string' || typeof code === 'number') wire.code = code;
      if (data !== undefined) wire.data = data;
      return wire;
    }
  }
  return { name: 'Error', message: typeof thrown === 'string' ? thrown : boundedText(String(thrown), 1024) };
}

function isCode(value: unknown): value is string | number {
  return typeof value === 'number' || typeof value === 'string';
}

/** The RemoteError for a details map `{ name?, message, code?, data? }`, if `value` is one. */
function fromDetails(value: unknown): RemoteError | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return undefined;
  const { name, message, code, data } = value as Record<string, unknown>;
  if (typeof message !== 'string') return undefined;
  return new RemoteError(typeof name === 'string' && name.length > 0 ? name : 'Error', message, isCode(code) ? code : undefined, data);
}

/**
 * Build the RemoteError a caller sees from a decoded `error` slot and the `result` slot beside it:
 * - `[type, message]` with a details map as result (our 'array' format): the details;
 * - any map with a string `message` (our 'map' format, or another peer's): name/message/code/data;
 * - a string: name 'Error', that message;
 * - `[code, message]` (Neovim style) without details: name 'Error', that message and code;
 * - anything else: name 'Error', message 'remote error', the value itself as `data`.
 */
export function remoteErrorFromWire(error: unknown, result?: unknown): RemoteError {
  if (typeof error === 'string') return new RemoteError('Error', error);
  if (Array.isArray(error)) {
    const [code, message] = error as unknown[];
    if (typeof message === 'string') {
      return fromDetails(result) ?? new RemoteError('Error', message, isCode(code) ? code : undefined);
    }
  } else {
    const details = fromDetails(error);
    if (details !== undefined) return details;
  }
  return new RemoteError('Error', 'remote error', undefined, error);
}
