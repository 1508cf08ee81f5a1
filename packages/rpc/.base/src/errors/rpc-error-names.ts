/**
 * `name` values this package puts in error responses it generates itself (as opposed to errors a
 * handler threw, which keep the thrown error's name).
 */
export const RpcErrorNames = {
  /** No handler is registered for the requested method. */
  MethodNotFound: 'MethodNotFound',
  /** The request was MessagePack but not a valid [0, msgid, method, params] array. */
  InvalidRequest: 'InvalidRequest',
  /** The server's bounded request queue was full; the request was not run. */
  Overloaded: 'Overloaded',
  /** The handler's result could not be encoded as MessagePack. */
  EncodeError: 'EncodeError',
} as const;
