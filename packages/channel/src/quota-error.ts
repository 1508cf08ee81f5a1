/**
 * Errors for the three limits a vchan rendezvous can run into, each naming the limit, its
 * default value and how to raise it. `code` stays the errno the limit gives (ENOSPC, E2BIG), so
 * `XenError.is(err, 'ENOSPC')` keeps working; `quota`, `limit` and `remedy` say which and what to do.
 * Defaults: Linux's gntalloc (drivers/xen/gntalloc.c, module parameter `limit` = 1024) and C
 * xenstored of Xen 4.17 (tools/xenstore/xenstored_core.c:106-108, options at 2610-2611).
 */
import { type DomId, XenError } from '@xenipc/core';

export type VchanQuota = 'gntalloc-pages' | 'xenstore-transactions' | 'xenstore-watches';

/** gntalloc's default limit of granted pages, shared by every process of the domain. */
export const GNTALLOC_DEFAULT_PAGE_LIMIT = 1024;
/** C xenstored's default number of open transactions per connection (`-t`). */
export const XENSTORED_DEFAULT_TRANSACTION_QUOTA = 10;
/** C xenstored's default number of watches per domain (`-W`); oxenstored's is 100. */
export const XENSTORED_DEFAULT_WATCH_QUOTA = 128;

export class VchanQuotaError extends XenError {
  /** Which limit was hit. */
  readonly quota: VchanQuota;
  /** The limit's default value (the configured one may differ). */
  readonly limit: number;
  /** What to do about it, in one sentence. */
  readonly remedy: string;

  constructor(init: { quota: VchanQuota; limit: number; remedy: string; code: string; syscall: string; message: string; path?: string; cause?: unknown }) {
    super({ code: init.code, syscall: init.syscall, message: `${init.message} ${init.remedy}`, path: init.path, cause: init.cause });
    this.quota = init.quota;
    this.limit = init.limit;
    this.remedy = init.remedy;
  }
}

/** A share() for a vchan server failed with ENOSPC. */
export function grantQuotaError(cause: unknown, pages: number, peer: DomId): VchanQuotaError {
  return new VchanQuotaError({
    quota: 'gntalloc-pages',
    limit: GNTALLOC_DEFAULT_PAGE_LIMIT,
    code: 'ENOSPC',
    syscall: 'vchan listen',
    message:
      `cannot grant the ${pages} page(s) a vchan server to domain ${peer} needs: this domain reached gntalloc's limit ` +
      `of granted pages (${GNTALLOC_DEFAULT_PAGE_LIMIT} by default, shared by all its processes; a channel with ` +
      `64 KiB rings takes 33).`,
    remedy:
      'Close unused channels, use smaller rings, or raise the limit as root in this domain: ' +
      'echo 4096 > /sys/module/xen_gntalloc/parameters/limit',
    cause,
  });
}

/** TRANSACTION_START answered ENOSPC. */
export function transactionQuotaError(cause: unknown, path: string): VchanQuotaError {
  return new VchanQuotaError({
    quota: 'xenstore-transactions',
    limit: XENSTORED_DEFAULT_TRANSACTION_QUOTA,
    code: 'ENOSPC',
    syscall: 'vchan listen',
    path,
    message:
      `xenstored refused a transaction to publish ${path}: this connection reached its quota of open ` +
      `transactions (${XENSTORED_DEFAULT_TRANSACTION_QUOTA} by default); xenipc keeps at most a few of its own open, ` +
      'so other code on this xenstore connection holds the rest.',
    remedy:
      'Finish or abort those transactions, or raise the quota: C xenstored `-t <n>` (`--transaction`), ' +
      'oxenstored `quota-transaction` in /etc/xen/oxenstored.conf.',
    cause,
  });
}

/** WATCH answered E2BIG. */
export function watchQuotaError(cause: unknown, path: string): VchanQuotaError {
  return new VchanQuotaError({
    quota: 'xenstore-watches',
    limit: XENSTORED_DEFAULT_WATCH_QUOTA,
    code: 'E2BIG',
    syscall: 'vchan connect',
    path,
    message:
      `xenstored refused a watch on ${path}: this domain reached its watch quota (${XENSTORED_DEFAULT_WATCH_QUOTA} ` +
      'per domain by default in C xenstored, 100 in oxenstored); every connect still waiting for its server holds ' +
      'one, and each xenstore connection one more for domain death.',
    remedy:
      'Start fewer connects at once, close other watches, or raise the quota: C xenstored `-W <n>` (`--watch-nb`), ' +
      'oxenstored `quota-maxwatch` in /etc/xen/oxenstored.conf.',
    cause,
  });
}
