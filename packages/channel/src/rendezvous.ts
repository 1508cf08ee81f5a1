/**
 * The xenstore rendezvous: where a server publishes its control page grant and event-channel
 * port, and how a client finds them (libxenvchan's init_xs_srv / client_init).
 */
import { type DomId, XenError, type XenStore } from '@xenipc/core';

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
  return `/local/domain/${server}/data/vchan/${client}/${checkVchanPort(port)}`;
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
  await xs.transaction(async (tx) => {
    await xs.write(`${path}/ring-ref`, String(ringRef), tx);
    await xs.setPerms(`${path}/ring-ref`, perms, tx);
    await xs.write(`${path}/event-channel`, String(eventChannel), tx);
    await xs.setPerms(`${path}/event-channel`, perms, tx);
  });
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
  return new Promise((resolve, reject) => {
    let done = false;
    let reading = false;
    let again = false;
    const finish = (err: Error | undefined, value?: { ringRef: number; eventChannel: number }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      xs.off('watch', onWatch);
      void xs.unwatch(watched, token).catch(() => undefined);
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
    xs.on('watch', onWatch);
    xs.watch(watched, token).catch((err: unknown) => finish(err as Error));
  });
}
