import { boundedText } from './argument-errors.js';

/**
 * A response to this call arrived (its msgid was readable) but its body could not be decoded: an
 * unknown extension type with `unknownExtensions: 'error'`, an extension codec that threw, a
 * value nested too deep, ... The call is rejected at once; the connection continues.
 */
export class RpcDecodeError extends Error {
  override readonly name = 'RpcDecodeError';
  readonly code = 'ERR_RPC_DECODE';

  constructor(readonly method: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`RPC call '${boundedText(method, 64)}': the response could not be decoded: ${boundedText(detail, 200)}`, options);
  }
}
