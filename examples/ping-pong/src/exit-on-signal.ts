/**
 * SIGINT/SIGTERM in a domain process: release the backend (grants, ports, xenstore entries) and
 * exit 130 at once -- a measuring loop does not stop by itself. The peer sees the channel end.
 */
import type { XenBackend } from '@xenipc/core';

/** Returns the function that removes the handlers again. */
export function exitOnSignal(backend: XenBackend, abort: AbortController): () => void {
  const onSignal = () => {
    abort.abort(new Error('interrupted'));
    setTimeout(() => process.exit(130), 1000).unref();
    void backend.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
