/**
 * An error the remote side reported in a response. `name`, `message`, `code` and `data` are
 * exactly what crossed the wire (see wire/wire-error.ts for the shapes read and written).
 * `code` is the remote's: errors this package generates carry one (RpcErrorCodes), an error
 * thrown by a remote handler carries its own `code` if it had one, Neovim's `[type, message]`
 * gives its error type (0 exception, 1 validation); undefined when the remote gave none.
 */
export class RemoteError extends Error {
  /** Application or protocol code, if the remote gave one (number or string). */
  readonly code: string | number | undefined;
  /** Extra structured data the remote attached, if any. */
  readonly data: unknown;

  constructor(name: string, message: string, code?: string | number, data?: unknown) {
    super(message);
    // keep the remote's name (e.g. 'TypeError', 'MethodNotFound') so callers can branch on it;
    // `instanceof RemoteError` still tells remote failures from local ones
    this.name = name;
    this.code = code;
    this.data = data;
  }
}
