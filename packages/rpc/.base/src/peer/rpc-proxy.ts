/**
 * A typed client derived from an interface: every method of `Api` becomes a function with the same
 * parameters returning a Promise of the (awaited) result. Non-function members are left out.
 */
// `any` (not unknown): a method with any parameter types must match this constraint
type AnyFunction = (...args: any[]) => unknown;

export type RpcProxy<Api> = {
  readonly [K in keyof Api as Api[K] extends AnyFunction ? K : never]:
    Api[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** Options applied to every call made through a proxy. */
export interface CallOptions {
  /** Reject with RpcTimeoutError if no response arrives within this many ms (0: never). */
  timeoutMs?: number;
  /** Reject with the signal's reason when it aborts; a late response is then dropped. */
  signal?: AbortSignal;
}
