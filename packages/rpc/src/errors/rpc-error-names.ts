/**
 * `name` values this package puts in error responses it generates itself (as opposed to errors a
 * handler threw, which keep the thrown error's name). Each goes with the `code` in RpcErrorCodes.
 */
export const RpcErrorNames = {
  /** No handler is registered for the requested method. */
  MethodNotFound: 'MethodNotFound',
  /** The request was not a valid [0, msgid, method, params] array, or could not be decoded. */
  InvalidRequest: 'InvalidRequest',
  /** The server's bounded request queue was full; the request was not run. */
  Overloaded: 'Overloaded',
  /** The handler's result could not be encoded as MessagePack. */
  EncodeError: 'EncodeError',
} as const;

/** The `code` of each error response this package generates (RemoteError.code on the caller's side). */
export const RpcErrorCodes = {
  MethodNotFound: 'ERR_RPC_METHOD_NOT_FOUND',
  InvalidRequest: 'ERR_RPC_INVALID_REQUEST',
  Overloaded: 'ERR_RPC_OVERLOADED',
  EncodeError: 'ERR_RPC_ENCODE',
} as const;
