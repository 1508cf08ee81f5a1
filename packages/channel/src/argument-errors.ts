/**
 * Argument errors as Node's own APIs throw them (node:net, node:fs): a TypeError with code
 * ERR_INVALID_ARG_TYPE for the wrong kind of value, a RangeError with code ERR_OUT_OF_RANGE for
 * a value of the right kind outside its range. Thrown synchronously, before any work starts.
 */

export interface ArgumentError extends Error {
  readonly code: 'ERR_INVALID_ARG_TYPE' | 'ERR_OUT_OF_RANGE';
}

/** How a received value is named in a message, bounded (the value may come from anywhere). */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === 'string' && ctor.name !== '' ? `an instance of ${ctor.name.slice(0, 40)}` : 'an object';
  }
  let shown = typeof value === 'string' ? `'${value}'` : String(value);
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

export function invalidArgType(name: string, expected: string, actual: unknown): ArgumentError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err as unknown as ArgumentError;
}

export function outOfRange(name: string, range: string, actual: unknown): ArgumentError {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${describe(actual)}`) as RangeError & { code: string };
  err.code = 'ERR_OUT_OF_RANGE';
  return err as unknown as ArgumentError;
}

/** An integer in [min, max], or the matching error. */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  return value;
}

/** An optional AbortSignal. */
export function checkSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidArgType(name, 'an instance of AbortSignal', value);
  return value;
}

/** The value an aborted operation rejects with: the signal's reason, as Node's APIs do. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
