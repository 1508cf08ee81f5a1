/**
 * Whole-domain death: when a domain dies nothing of it runs, so no unmap-notify clears its live
 * byte and a survivor would wait forever (libxenvchan has no answer; Qubes polls). We watch
 * xenstore's @releaseDomain instead -- event-driven, so an idle channel costs no CPU -- with ONE
 * watch per xenstore connection shared by all its channels (xenstored caps watches per domain),
 * and let each channel check whether its own peer was the one released.
 */
import type { XenStore, XsWatchEvent } from '@xenipc/core';

type Check = () => void;

interface Registration {
  token: string;
  checks: Set<Check>;
  listener: (e: XsWatchEvent) => void;
  ready: Promise<void>;
}

const registrations = new WeakMap<XenStore, Registration>();
let nextToken = 1;

/** Call `check` whenever some domain is released; returns the unsubscribe function. */
export async function onDomainReleased(xs: XenStore, check: Check): Promise<() => Promise<void>> {
  let reg = registrations.get(xs);
  if (reg === undefined) {
    const token = `xenipc-release-${process.pid}-${nextToken++}`;
    const checks = new Set<Check>();
    const listener = (e: XsWatchEvent): void => {
      if (e.token !== token) return;
      for (const c of [...checks]) c();
    };
    xs.on('watch', listener);
    const created: Registration = { token, checks, listener, ready: xs.watch('@releaseDomain', token) };
    reg = created;
    registrations.set(xs, created);
    created.ready.catch(() => {
      // Without the watch we only lose domain-death detection; unmap-notify still works.
      if (registrations.get(xs) === created) registrations.delete(xs);
      xs.off('watch', listener);
    });
  }
  const current = reg;
  current.checks.add(check);
  await current.ready.catch(() => undefined);
  return async () => {
    current.checks.delete(check);
    if (current.checks.size > 0 || registrations.get(xs) !== current) return;
    registrations.delete(xs);
    xs.off('watch', current.listener);
    await current.ready.then(() => xs.unwatch('@releaseDomain', current.token)).catch(() => undefined);
  };
}
