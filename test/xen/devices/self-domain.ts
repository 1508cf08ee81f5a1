/**
 * What the real-device tests (*.xen.test.ts) need to run in ONE domain as root: whether Xen
 * devices exist, and our own domid (grants and event channels are made to ourselves).
 *
 * Own domid: $XENIPC_TEST_DOMID if set; else 0 in the control domain; else xenstore "domid"
 * (needs xenstored running, or the xenbus device in a domU).
 */
import { existsSync } from 'node:fs';
import { connectXenStore, isControlDomain, type XenStore } from '@xenipc/core';

export const hasXen = existsSync('/dev/xen/evtchn') && existsSync('/dev/xen/gntdev') && existsSync('/dev/xen/gntalloc');

/** A describe() title that says why it is skipped when it is. */
export function xenSuiteTitle(what: string): string {
  return hasXen ? `${what} (real /dev/xen, self-grant)` : `${what} (skipped: /dev/xen absent)`;
}

export const xenstoredRunning = existsSync('/var/run/xenstored/socket');

let cached: number | undefined;
export async function selfDomid(): Promise<number> {
  if (cached !== undefined) return cached;
  const fromEnv = process.env.XENIPC_TEST_DOMID;
  if (fromEnv !== undefined && fromEnv !== '') cached = Number(fromEnv);
  else if (await isControlDomain()) cached = 0;
  else {
    const xs = await connectXenStore();
    try {
      cached = Number(await xs.read('domid'));
    } finally {
      xs.close();
    }
  }
  return cached;
}

/** A xenstore stand-in for backends under test when no xenstored runs (dom0 of the bare rig). */
export function domidOnlyXenStore(domid: number): XenStore {
  const stub = { read: async (path: string) => (path === 'domid' ? String(domid) : Promise.reject(new Error(`no xenstore: ${path}`))), close() {} };
  return stub as unknown as XenStore;
}

/** Counts events; until(n) resolves once n have arrived, or rejects after `ms`. */
export class EventCounter {
  count = 0;
  readonly #waiters: Array<{ n: number; resolve: () => void }> = [];

  readonly hit = (): void => {
    this.count++;
    for (const waiter of [...this.#waiters]) {
      if (this.count >= waiter.n) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  until(n: number, ms = 5000): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.count} of ${n} events within ${ms} ms`)), ms);
      this.#waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
