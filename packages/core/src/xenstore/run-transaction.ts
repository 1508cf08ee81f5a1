/**
 * XenStore.transaction() for every xenstore implementation: run `fn` in a transaction, abort it
 * if `fn` throws, and start over when the commit reports a conflict (EAGAIN), as libxenstore
 * users do.
 */
import type { XenStore, XsTransaction } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';

/** How often a conflicting transaction is retried by default. */
export const XS_TRANSACTION_RETRIES = 10;

export async function runTransaction<T>(
  store: Pick<XenStore, 'transactionStart' | 'transactionEnd'>,
  fn: (tx: XsTransaction) => Promise<T>,
  retries = XS_TRANSACTION_RETRIES,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const tx = await store.transactionStart();
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      await store.transactionEnd(tx, false).catch(() => undefined);
      throw err;
    }
    try {
      await store.transactionEnd(tx, true);
      return result;
    } catch (err) {
      if (!XenError.is(err, 'EAGAIN') || attempt >= retries) throw err;
    }
  }
}
