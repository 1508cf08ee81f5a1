/**
 * Argument errors thrown synchronously at public entry points, in node:net's style: a TypeError
 * with code ERR_INVALID_ARG_TYPE for a wrong type, a RangeError with code ERR_OUT_OF_RANGE for a
 * value outside its range. Received values are described briefly, never echoed at length.
 */
export interface CodedTypeError extends TypeError { code: 'ERR_INVALID_ARG_TYPE' }
export interface CodedRangeError extends RangeError { code: 'ERR_OUT_OF_RANGE' }

/** A short description of a value for an error text (bounded: peer or user data is never spelled out). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined': return 'undefined';
    case 'string': return `type string (${JSON.stringify(boundedText(value, 24))})`;
    case 'number': case 'boolean': return `type ${typeof value} (${String(value)})`;
    case 'bigint': return 'type bigint';
    case 'function': return 'function';
    case 'symbol': return 'type symbol';
    default: {
      const name = (value as object).constructor?.name;
      return typeof name === 'string' && name !== '' ? `an instance of ${boundedText(name, 40)}` : 'an object';
    }
  }
}

/** `text` cut to at most `max` characters, with an ellipsis when cut. */
export function boundedText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}...(${text.length} chars)`;
}

export function invalidArgType(name: string, expected: string, value: unknown): CodedTypeError {
  const error = new TypeError(`The "${name}" argument must be ${expected}. Received ${describeValue(value)}`) as CodedTypeError;
  error.code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

export function outOfRange(name: string, expected: string, value: unknown): CodedRangeError {
  const error = new RangeError(`The value of "${name}" is out of range. It must be ${expected}. Received ${describeValue(value)}`) as CodedRangeError;
  error.code = 'ERR_OUT_OF_RANGE';
  return error;
}

/** A non-negative integer option (sizes, counts, milliseconds), checked like node:net's. */
export function checkSize(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isSafeInteger(value) || value < min) throw outOfRange(name, `an integer >= ${min}`, value);
  return value;
}
