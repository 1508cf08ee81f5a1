/** A call got no response within its timeout. A response arriving later is dropped and counted. */
export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';

  constructor(readonly method: string, readonly timeoutMs: number) {
    super(`RPC call '${method}' timed out after ${timeoutMs} ms`);
  }
}
