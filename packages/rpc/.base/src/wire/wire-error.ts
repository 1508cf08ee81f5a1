/**
 * The error object carried in the `error` slot of a response `[1, msgid, error, result]`:
 *
 *   { name: string, message: string, code?: string | number, data?: any }
 *
 * (a MessagePack map with string keys; `code` and `data` are omitted when absent). Stacks are not
 * sent: they describe the server's internals. Errors from other msgpack-rpc implementations
 * (a bare string, Neovim's `[type, message]`, any other object) are accepted and mapped as
 * described in {@link remoteErrorFromWire}.
 */
import { RemoteError } from '../errors/remote-error.js';

export interface WireError {
  name: string;
  message: string;
  code?: string | number;
  data?: unknown;
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
  return { name: 'Error', message: String(thrown) };
}

/**
 * Build the RemoteError a caller sees from a decoded `error` slot (hostile input: any shape).
 * - our object (or any map with a string `message`): name/message/code/data as sent;
 * - a string: name 'Error', that message;
 * - `[code, message]` (Neovim style): name 'Error', that message and code;
 * - anything else: name 'Error', message 'remote error', the value itself as `data`.
 */
export function remoteErrorFromWire(error: unknown): RemoteError {
  if (typeof error === 'string') return new RemoteError('Error', error);
  if (Array.isArray(error)) {
    const [code, message] = error as unknown[];
    if (typeof message === 'string') {
      return new RemoteError('Error', message, typeof code === 'number' || typeof code === 'string' ? code : undefined);
    }
  } else if (typeof error === 'object' && error !== null) {
    const { name, message, code, data } = error as Record<string, unknown>;
    if (typeof message === 'string') {
      return new RemoteError(
        typeof name === 'string' && name.length > 0 ? name : 'Error',
        message,
        typeof code === 'number' || typeof code === 'string' ? code : undefined,
        data,
      );
    }
  }
  return new RemoteError('Error', 'remote error', undefined, error);
}
