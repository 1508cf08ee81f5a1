import { constants } from 'node:os';

/** Error numbers by name, from the platform (Linux: ENOENT=2, EINVAL=22, ...). */
const ERRNO_BY_NAME: Readonly<Record<string, number>> = constants.errno as Record<string, number>;

/** Reverse lookup: errno number -> name ("ENOENT"); "E<n>" when the platform has no name for it. */
export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(ERRNO_BY_NAME)) if (value === errno) return name;
  return `E${errno}`;
}

/** Errno number of a name ("EAGAIN" -> 11); 0 when unknown. */
export function errnoNumber(code: string): number {
  return ERRNO_BY_NAME[code] ?? 0;
}

export interface XenErrorInit {
  /** errno name, e.g. "ENOENT", "EINVAL", "ENOSPC". */
  code: string;
  /** What was being done: an ioctl name ("IOCTL_GNTDEV_MAP_GRANT_REF"), "open", "mmap", a xenstore op... */
  syscall: string;
  /** A sentence a user understands. */
  message: string;
  /** The device or xenstore path involved, if any. */
  path?: string;
  cause?: unknown;
}

/**
 * Every failure of a Xen operation, from the real devices, the simulated host or xenstore.
 * `code` is the errno name the Linux kernel (or xenstored) gives for the same failure, so code
 * written against the simulated host handles real Xen unchanged.
 */
export class XenError extends Error {
  override readonly name = 'XenError';
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string | undefined;

  constructor(init: XenErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.errno = errnoNumber(init.code);
    this.syscall = init.syscall;
    this.path = init.path;
  }

  static is(err: unknown, code?: string): err is XenError {
    return err instanceof XenError && (code === undefined || err.code === code);
  }
}
