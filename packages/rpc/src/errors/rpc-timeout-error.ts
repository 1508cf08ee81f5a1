import { boundedText } from './argument-errors.js';

/** A call got no response within its timeout. A response arriving later is dropped and counted. */
export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';
  readonly code = 'ERR_RPC_TIMEOUT';

  constructor(readonly method: string, readonly timeoutMs: number) {
    super(`RPC call '${boundedText(method, 64)}' timed out after ${timeoutMs} ms`);
  }
}
