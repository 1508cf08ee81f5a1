/**
 * The xenstore rendezvous: where a server publishes its control page grant and event-channel
 * port, and how a client finds them (libxenvchan's init_xs_srv / client_init).
 */
import { type DomId, XenError, type XenStore } from '@xenipc/core';
import { AsyncSlots } from './async-slots.js';
import { transactionQuotaError, watchQuotaError, XENSTORED_DEFAULT_TRANSACTION_QUOTA, XENSTORED_DEFAULT_WATCH_QUOTA } from './quota-error.js';

/** A vchan port name: libxenvchan/Qubes use numbers, ocaml-vchan `[a-zA-Z0-9_-]+`. */
export type VchanPort = number | string;

export function checkVchanPort(port: VchanPort): string {
  const s = String(port);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(s)) {
    throw new TypeError(`vchan port ${JSON.stringify(s)} must be 1-64 characters of [A-Za-z0-9_-] (or a non-negative integer)`);
  }
  return s;
}

/** The conventional path: /local/domain/<server>/data/vchan/<client>/<port>. */
export function defaultVchanPath(server: DomId, client: DomId, port: VchanPort): string {
  return `${vchanPeerDirectory(server, client)}/${checkVchanPort(port)}`;
}

/** Where the conventional layout puts the server's channels to one client domain. */
export function vchanPeerDirectory(server: DomId, client: DomId): string {
  return `/local/domain/${server}/data/vchan/${client}`;
}

/**
 * libxenvchan builds its xenstore keys with `snprintf(buf, 64, "%s/event-channel", path)`
 * (tools/libs/vchan/init.c:252,290 in the server, 422,448 in the client, Xen 4.17): a path whose
 * `<path>/event-channel` needs more than 64 bytes with its NUL is truncated, so its server writes
 * a wrong key and its client never finds ours. The longest path it can follow: 49 characters.
 */
export const LIBXENVCHAN_MAX_PATH_LENGTH = 64 - '/event-channel'.length - 1;

/**
 * Refuse a vchan path a libxenvchan peer could not follow (RangeError, code
 * ERR_VCHAN_PATH_TOO_LONG), unless the caller said the peer is not libxenvchan.
 */
export function checkLibxenvchanPath(path: string, libxenvchanPeer: boolean | undefined): void {
  if (libxenvchanPeer === false || path.length <= LIBXENVCHAN_MAX_PATH_LENGTH) return;
  const err = new RangeError(
    `vchan path ${JSON.stringify(path.slice(0, 120))} is ${path.length} characters; a libxenvchan peer can only ` +
      `follow paths of up to ${LIBXENVCHAN_MAX_PATH_LENGTH} (its "<path>/event-channel" buffer is 64 bytes). ` +
      'Use a shorter port name or path, or pass libxenvchanPeer: false if the peer is not libxenvchan.',
  ) as RangeError & { code: string };
  err.code = 'ERR_VCHAN_PATH_TOO_LONG';
  throw err;
}

/**
 * How many publish transactions / waiting-connect watches we keep open at once on one xenstore
 * connection: well below xenstored's quotas (10 transactions per connection, 128 watches per
 * domain), so many concurrent listens/connects queue here instead of failing there, and the
 * application keeps some of the quota.
 */
export const MAX_OWN_TRANSACTIONS = Math.floor(XENSTORED_DEFAULT_TRANSACTION_QUOTA / 2);
export const MAX_OWN_WATCHES = XENSTORED_DEFAULT_WATCH_QUOTA / 2;

const transactionSlots = new WeakMap<XenStore, AsyncSlots>();
const watchSlots = new WeakMap<XenStore, AsyncSlots>();

function slotsFor(map: WeakMap<XenStore, AsyncSlots>, xs: XenStore, max: number): AsyncSlots {
  let slots = map.get(xs);
  if (slots === undefined) {
    slots = new AsyncSlots(max);
    map.set(xs, slots);
  }
  return slots;
}

/** Server side: write ring-ref and event-channel in ONE transaction, readable by the peer only. */
export async function publishRendezvous(
  xs: XenStore,
  self: DomId,
  path: string,
  peer: DomId,
  ringRef: number,
  eventChannel: number,
): Promise<void> {
  const perms = [
    { domid: self, perm: 'none' as const },
    { domid: peer, perm: 'read' as const },
  ];
  // Create the directory first, outside the transaction: the keys then go in atomically, and
  // a transaction that only adds leaves to an existing node is the cheapest to commit (the
  // simulated xenstored also conflicts a transaction with nodes it created itself; see report).
  await xs.mkdir(path);
  await slotsFor(transactionSlots, xs, MAX_OWN_TRANSACTIONS)
    .run(() =>
      xs.transaction(async (tx) => {
        await xs.write(`${path}/ring-ref`, String(ringRef), tx);
        await xs.setPerms(`${path}/ring-ref`, perms, tx);
        await xs.write(`${path}/event-channel`, String(eventChannel), tx);
        await xs.setPerms(`${path}/event-channel`, perms, tx);
      }),
    )
    .catch((err: unknown) => {
      throw XenError.is(err, 'ENOSPC') ? transactionQuotaError(err, path) : err;
    });
}

/** Server side: take the channel's entry out of xenstore (gone already is fine). */
export async function withdrawRendezvous(xs: XenStore, path: string): Promise<void> {
  try {
    await xs.rm(path);
  } catch (err) {
    if (!XenError.is(err, 'ENOENT')) throw err;
  }
}

/**
 * Server side, once its entry is withdrawn: remove the conventional layout's per-peer directory
 * (vchanPeerDirectory()) if no channel to the same peer has an entry in it. libxenvchan leaves it
 * behind: one node per peer domain ever served, which a long-running server pays for against its
 * domain's xenstore node quota (C xenstored: 1,000 by default) when its peers are short-lived
 * domains, each with a new domid. Read and removed in one transaction: a concurrent publish to
 * the same peer makes the commit conflict (EAGAIN) and the retry sees its entry. Best effort: a
 * failure (the directory is gone, no access, quota) is not the close's failure.
 */
export async function tidyPeerDirectory(xs: XenStore, peerDirectory: string): Promise<void> {
  await slotsFor(transactionSlots, xs, MAX_OWN_TRANSACTIONS)
    .run(() =>
      xs.transaction(async (tx) => {
        if ((await xs.directory(peerDirectory, tx)).length === 0) await xs.rm(peerDirectory, tx);
      }),
    )
    .catch(() => undefined);
}

/** Strict decimal u32 > 0 (the server is untrusted; libxenvchan treats 0 as failure). */
function parseKey(value: string, key: string, path: string): number {
  const trimmed = value.replace(/\0+$/, '').trim();
  const n = /^[0-9]{1,10}$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isInteger(n) || n <= 0 || n > 0xffff_ffff) {
    throw new XenError({
      code: 'EPROTO',
      syscall: 'vchan connect',
      message: `${path}/${key} is ${JSON.stringify(value.slice(0, 40))}, not a positive decimal u32`,
      path,
    });
  }
  return n;
}

let nextWatchToken = 1;

/**
 * Client side: wait (watching `<path>/event-channel`, as Qubes does, since the directory itself
 * may be unreadable) until both keys can be read, or time out.
 */
export async function awaitRendezvous(
  xs: XenStore,
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ ringRef: number; eventChannel: number }> {
  const token = `xenipc-vchan-${process.pid}-${nextWatchToken++}`;
  const watched = `${path}/event-channel`;
  const slot = slotsFor(watchSlots, xs, MAX_OWN_WATCHES).claim();
  return new Promise((resolve, reject) => {
    let done = false;
    let reading = false;
    let again = false;
    let watching = false;
    const finish = (err: Error | undefined, value?: { ringRef: number; eventChannel: number }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      xs.off('watch', onWatch);
      if (watching) void xs.unwatch(watched, token).catch(() => undefined).finally(() => slot.release());
      else slot.release();
      if (err !== undefined) reject(err);
      else resolve(value as { ringRef: number; eventChannel: number });
    };
    const tryRead = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          let ring: string;
          let port: string;
          try {
            ring = await xs.read(`${path}/ring-ref`);
            port = await xs.read(`${path}/event-channel`);
          } catch (err) {
            if (XenError.is(err, 'ENOENT') || XenError.is(err, 'EACCES')) continue; // not there (for us) yet
            throw err;
          }
          finish(undefined, { ringRef: parseKey(ring, 'ring-ref', path), eventChannel: parseKey(port, 'event-channel', path) });
          return;
        } while (again && !done);
      } catch (err) {
        finish(err as Error);
      } finally {
        reading = false;
      }
    };
    const onWatch = (e: { path: string; token: string }): void => {
      if (e.token === token && !done) void tryRead();
    };
    const onAbort = (): void => finish(new XenError({ code: 'ECANCELED', syscall: 'vchan connect', message: 'connect was aborted', path }));
    const timer = setTimeout(
      () => finish(new XenError({ code: 'ETIMEDOUT', syscall: 'vchan connect', message: `no vchan server appeared at ${path} within ${timeoutMs} ms`, path })),
      timeoutMs,
    );
    if (signal?.aborted === true) return onAbort();
    signal?.addEventListener('abort', onAbort);
    void slot.ready.then(() => {
      if (done) return;
      watching = true;
      xs.on('watch', onWatch);
      xs.watch(watched, token).catch((err: unknown) => {
        watching = false;
        finish(XenError.is(err, 'E2BIG') ? watchQuotaError(err, watched) : (err as Error));
      });
    });
  });
}
