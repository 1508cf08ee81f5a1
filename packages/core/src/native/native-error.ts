/** Turns errors thrown by the addon into XenError with a sentence a user understands. */
import { errnoName, XenError } from '../xen-error.js';
import type { NativeErrnoError } from './native-addon.js';

function isNativeErrnoError(err: unknown): err is NativeErrnoError {
  return err instanceof Error && typeof (err as Partial<NativeErrnoError>).errno === 'number';
}

export interface NativeCallContext {
  /** What the call does, for the sentence: "map 2 grant pages of domain 3". */
  what: string;
  /** The syscall or ioctl name reported in XenError.syscall; defaults to the addon's. */
  syscall?: string;
  path?: string;
  /** A more specific sentence for some errno names (e.g. ENOSPC on gntalloc names its limit). */
  explain?: (code: string) => string | undefined;
}

export function toXenError(err: unknown, context: NativeCallContext): unknown {
  if (!isNativeErrnoError(err)) return err;
  const code = errnoName(err.errno);
  const syscall = context.syscall ?? err.syscall;
  const detail = context.explain?.(code);
  const reason = err.message.replace(/^[^:]*: /, '');
  const message = detail ?? `cannot ${context.what}: ${syscall} failed with ${code} (${reason})`;
  return new XenError({ code, syscall, message, path: context.path, cause: err });
}

/** Runs one addon call; a failed syscall becomes a XenError. */
export function callNative<T>(context: NativeCallContext, call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw toXenError(err, context);
  }
}
