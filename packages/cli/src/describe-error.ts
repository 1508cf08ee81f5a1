/** One line for a failure: XenError carries errno name and syscall, which users search for. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const detail = err as Error & { code?: unknown; syscall?: unknown };
  const tags = [detail.code, detail.syscall].filter((t): t is string => typeof t === 'string' && t.length > 0);
  return tags.length > 0 && !tags.every((t) => err.message.includes(t)) ? `${err.message} (${tags.join(', ')})` : err.message;
}
