/**
 * The pages of one vchan server (control page + external ring pages), granted all-or-nothing.
 *
 * gntalloc's page limit (1024 by default) is shared by the whole domain. Servers that each grab
 * their control page, then their rings, one share() at a time, starve each other when many
 * listen at once: every one holds part of what it needs and all fail with ENOSPC (100 concurrent
 * 64 KiB servers: none finished). So the servers of one backend allocate one after the other,
 * each taking all its pages or, on ENOSPC, giving back what it took before the next one tries:
 * as many as fit succeed, the others fail fast with a VchanQuotaError naming the limit.
 * (One share() for all pages would be atomic in the kernel too, but the loopback host requires
 * a mapping to cover exactly one share, and a client maps the control page and rings apart.)
 */
import { type DomId, type GrantedPages, type XenBackend, XenError } from '@xenipc/core';
import { AsyncSlots } from './async-slots.js';
import { grantQuotaError } from './quota-error.js';

const allocationLocks = new WeakMap<XenBackend, AsyncSlots>();

/**
 * Share `pageCounts[i]` pages for each i (0 counts give undefined), in order, holding the
 * backend's allocation lock. On failure everything shared so far is closed; ENOSPC becomes a
 * VchanQuotaError.
 */
export async function shareAllOrNothing(backend: XenBackend, peer: DomId, pageCounts: readonly number[]): Promise<Array<GrantedPages | undefined>> {
  let lock = allocationLocks.get(backend);
  if (lock === undefined) {
    lock = new AsyncSlots(1);
    allocationLocks.set(backend, lock);
  }
  const total = pageCounts.reduce((sum, n) => sum + n, 0);
  return lock.run(async () => {
    const shared: Array<GrantedPages | undefined> = [];
    try {
      for (const count of pageCounts) shared.push(count > 0 ? await backend.share(peer, count, { writable: true }) : undefined);
      return shared;
    } catch (err) {
      for (const pages of shared) pages?.close();
      throw XenError.is(err, 'ENOSPC') ? grantQuotaError(err, total, peer) : err;
    }
  });
}
