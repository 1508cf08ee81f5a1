/**
 * xenstore behaviour that must hold against ANY xenstored: the simulated one, reached over the
 * simulated host's socket or in process by the loopback host (test/conformance/*.test.ts), and a
 * real one (test/xen/conformance/, run in real Xen by the rig). Real xenstored is the reference.
 * Only relative paths under data/ are used, which every domain may write.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { XenError, type XenStore, type XsWatchEvent } from '@xenipc/core';

/** Collects watch events; next() waits for one matching a predicate. */
class WatchLog {
  readonly events: XsWatchEvent[] = [];
  readonly #waiters: Array<{ match: (e: XsWatchEvent) => boolean; resolve: (e: XsWatchEvent) => void }> = [];
  constructor(store: XenStore) {
    store.on('watch', (event) => {
      this.events.push(event);
      for (const waiter of [...this.#waiters]) {
        if (waiter.match(event)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    });
  }
  next(match: (e: XsWatchEvent) => boolean, timeoutMs = 2000): Promise<XsWatchEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching watch event within ${timeoutMs} ms; got ${JSON.stringify(this.events)}`)), timeoutMs);
      this.#waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }
  clear(): void {
    this.events.length = 0;
  }
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(XenError);
    return (err as XenError).code;
  }
}

let counter = 0;

/**
 * `open` returns a new connection of the same domain each call; the suite closes them.
 */
export function describeXenStoreConformance(label: string, open: () => Promise<XenStore>): void {
  describe(`xenstore conformance (${label})`, () => {
    const opened: XenStore[] = [];
    let base = '';
    const connect = async (): Promise<XenStore> => {
      const store = await open();
      opened.push(store);
      return store;
    };
    const fresh = async (): Promise<XenStore> => {
      base = `data/xenipc-test-${process.pid}-${++counter}`;
      return connect();
    };

    afterEach(async () => {
      const [first] = opened;
      if (first !== undefined) await first.rm(base).catch(() => undefined);
      for (const store of opened.splice(0)) store.close();
    });

    it('write, read, directory and rm round-trip; a missing node is ENOENT', async () => {
      const xs = await fresh();
      await xs.write(`${base}/a`, 'one');
      await xs.write(`${base}/b/c`, 'two'); // creates the missing parent b
      expect(await xs.read(`${base}/a`)).toBe('one');
      expect(await xs.read(`${base}/b/c`)).toBe('two');
      expect((await xs.directory(base)).sort()).toEqual(['a', 'b']);
      await xs.mkdir(`${base}/d`);
      expect(await xs.read(`${base}/d`)).toBe('');
      await xs.rm(`${base}/b`);
      expect(await rejectionCode(xs.read(`${base}/b/c`))).toBe('ENOENT');
      expect((await xs.directory(base)).sort()).toEqual(['a', 'd']);
      expect((await xs.getPerms(`${base}/a`)).length).toBeGreaterThanOrEqual(1);
      expect(await xs.getDomainPath(5)).toBe('/local/domain/5');
    });

    it('watches fire once on registration, on writes below the path, and on rm (also for watched children)', async () => {
      const watcher = await fresh();
      const writer = await connect();
      const log = new WatchLog(watcher);
      await writer.write(`${base}/child/leaf`, 'x');
      await watcher.watch(base, 'parent-token');
      await watcher.watch(`${base}/child/leaf`, 'leaf-token');
      await log.next((e) => e.token === 'parent-token' && e.path === base);
      await log.next((e) => e.token === 'leaf-token' && e.path === `${base}/child/leaf`);
      log.clear();
      await writer.write(`${base}/child/other`, 'y');
      await log.next((e) => e.token === 'parent-token' && e.path === `${base}/child/other`);
      log.clear();
      await writer.rm(`${base}/child`);
      await log.next((e) => e.token === 'parent-token' && e.path === `${base}/child`);
      await log.next((e) => e.token === 'leaf-token' && e.path === `${base}/child/leaf`);
      await watcher.unwatch(base, 'parent-token');
      await watcher.unwatch(`${base}/child/leaf`, 'leaf-token');
      log.clear();
      await writer.write(`${base}/after`, 'z');
      await writer.read(`${base}/after`); // a round trip on the writer; then check the watcher stays silent
      await watcher.read(`${base}/after`);
      expect(log.events.filter((e) => e.token === 'parent-token')).toEqual([]);
      expect(await rejectionCode(watcher.unwatch(base, 'parent-token'))).toBe('ENOENT');
    });

    it('a conflicting transaction ends with EAGAIN and a retry succeeds', async () => {
      const a = await fresh();
      const b = await connect();
      await a.write(`${base}/counter`, '1');
      const tx = await a.transactionStart();
      const seen = Number(await a.read(`${base}/counter`, tx));
      await b.write(`${base}/counter`, '10'); // someone else changes what tx read
      await a.write(`${base}/counter`, String(seen + 1), tx);
      expect(await rejectionCode(a.transactionEnd(tx, true))).toBe('EAGAIN');
      expect(await a.read(`${base}/counter`)).toBe('10');
      let attempts = 0;
      await a.transaction(async (retry) => {
        attempts++;
        const value = Number(await a.read(`${base}/counter`, retry));
        if (attempts === 1) await b.write(`${base}/counter`, String(value + 100)); // conflict once more
        await a.write(`${base}/counter`, String(value + 1), retry);
      });
      expect(attempts).toBe(2);
      expect(await a.read(`${base}/counter`)).toBe('111');
    });

    it('a transaction writing two keys under a directory it created commits on the first attempt', async () => {
      // The vchan rendezvous shape: ring-ref and event-channel under a new .../vchan/<peer>/<port>.
      const a = await fresh();
      const b = await connect();
      await a.write(`${base}/existing`, 'e');
      let attempts = 0;
      await a.transaction(async (tx) => {
        attempts++;
        await a.write(`${base}/vchan/2/5/ring-ref`, '8', tx);
        const [owner] = await a.getPerms(`${base}/vchan/2/5/ring-ref`, tx);
        if (owner === undefined) throw new Error('GET_PERMS returned no owner entry');
        await a.setPerms(`${base}/vchan/2/5/ring-ref`, [{ domid: owner.domid, perm: 'none' }], tx);
        await a.write(`${base}/vchan/2/5/event-channel`, '3', tx);
        await a.setPerms(`${base}/vchan/2/5/event-channel`, [{ domid: owner.domid, perm: 'none' }], tx);
      });
      expect(attempts).toBe(1);
      expect((await b.getPerms(`${base}/vchan/2/5/event-channel`)).map((p) => p.perm)).toEqual(['none']);
      expect(await b.read(`${base}/vchan/2/5/ring-ref`)).toBe('8');
      expect(await b.read(`${base}/vchan/2/5/event-channel`)).toBe('3');
      expect((await b.directory(`${base}/vchan/2/5`)).sort()).toEqual(['event-channel', 'ring-ref']);
      // Same with an explicit MKDIR of the new directory, a read-back and a listing inside the transaction.
      const tx = await a.transactionStart();
      await a.mkdir(`${base}/made/dir`, tx);
      await a.write(`${base}/made/dir/one`, '1', tx);
      expect(await a.read(`${base}/made/dir/one`, tx)).toBe('1');
      await a.write(`${base}/made/dir/two`, '2', tx);
      expect((await a.directory(`${base}/made/dir`, tx)).sort()).toEqual(['one', 'two']);
      await a.transactionEnd(tx, true);
      expect((await b.directory(`${base}/made/dir`)).sort()).toEqual(['one', 'two']);
    });

    it('inside a transaction, missing parents are created and listings show its own writes; outside sees nothing until commit', async () => {
      const a = await fresh();
      const b = await connect();
      await a.write(`${base}/keep`, 'k');
      const tx = await a.transactionStart();
      await a.write(`${base}/p/q/r`, 'deep', tx);
      expect((await a.directory(base, tx)).sort()).toEqual(['keep', 'p']);
      expect(await a.directory(`${base}/p`, tx)).toEqual(['q']);
      expect(await a.read(`${base}/p/q`, tx)).toBe(''); // implicit parents have empty values
      expect(await rejectionCode(b.read(`${base}/p`))).toBe('ENOENT');
      expect(await b.directory(base)).toEqual(['keep']);
      await a.transactionEnd(tx, true);
      expect(await b.read(`${base}/p/q/r`)).toBe('deep');
      expect(await b.read(`${base}/p/q`)).toBe('');
    });

    it('rm of a subtree inside a transaction: gone for the transaction, visible outside until commit, recreatable below', async () => {
      const a = await fresh();
      const b = await connect();
      await a.write(`${base}/t/a`, '1');
      await a.write(`${base}/t/b/c`, '2');
      await a.write(`${base}/t/b/d/e`, '3');
      const tx = await a.transactionStart();
      await a.rm(`${base}/t/b`, tx);
      expect(await a.directory(`${base}/t`, tx)).toEqual(['a']);
      expect(await rejectionCode(a.read(`${base}/t/b/d/e`, tx))).toBe('ENOENT');
      expect(await b.read(`${base}/t/b/d/e`)).toBe('3');
      await a.write(`${base}/t/b/c`, 'again', tx); // recreates b with only c below it
      await a.transactionEnd(tx, true);
      expect(await b.directory(`${base}/t/b`)).toEqual(['c']);
      expect(await b.read(`${base}/t/b/c`)).toBe('again');
      expect(await rejectionCode(b.read(`${base}/t/b/d`))).toBe('ENOENT');
    });

    it('watches hear a transaction\'s changes only at commit, including removals below the watch; never for an abort', async () => {
      const a = await fresh();
      const watcher = await connect();
      const log = new WatchLog(watcher);
      await a.write(`${base}/w/old/leaf`, 'x');
      await watcher.watch(`${base}/w`, 'tree');
      await watcher.watch(`${base}/w/old/leaf`, 'leaf');
      await log.next((e) => e.token === 'tree');
      await log.next((e) => e.token === 'leaf');
      log.clear();
      const aborted = await a.transactionStart();
      await a.write(`${base}/w/discarded`, 'd', aborted);
      await a.rm(`${base}/w/old`, aborted);
      await a.transactionEnd(aborted, false);
      const tx = await a.transactionStart();
      await a.write(`${base}/w/new/k`, 'n', tx);
      await a.rm(`${base}/w/old`, tx);
      await watcher.read(`${base}/w/old/leaf`); // round trips: any (wrong) early event would have arrived
      await a.read(`${base}/w/old/leaf`);
      expect(log.events).toEqual([]);
      await a.transactionEnd(tx, true);
      await log.next((e) => e.token === 'tree' && e.path === `${base}/w/new/k`);
      await log.next((e) => e.token === 'tree' && e.path === `${base}/w/old`);
      await log.next((e) => e.token === 'leaf' && e.path === `${base}/w/old/leaf`);
      expect(log.events.filter((e) => e.path.includes('discarded'))).toEqual([]);
      await watcher.unwatch(`${base}/w`, 'tree');
      await watcher.unwatch(`${base}/w/old/leaf`, 'leaf');
    });

    it('real conflicts still end in EAGAIN: a node it wrote changed, a directory it created appeared outside, a node it read was removed or created, a node it removed changed', async () => {
      const a = await fresh();
      const b = await connect();
      const created = await a.transactionStart();
      await a.write(`${base}/new/x`, '1', created);
      await a.write(`${base}/new/y`, '2', created);
      await b.write(`${base}/new/z`, 'outside'); // creates new outside the transaction
      expect(await rejectionCode(a.transactionEnd(created, true))).toBe('EAGAIN');
      expect(await b.directory(`${base}/new`)).toEqual(['z']);

      await a.write(`${base}/gone/k`, 'v');
      const readRemoved = await a.transactionStart();
      expect(await a.read(`${base}/gone/k`, readRemoved)).toBe('v');
      await a.write(`${base}/flag`, 'f', readRemoved);
      await b.rm(`${base}/gone`);
      expect(await rejectionCode(a.transactionEnd(readRemoved, true))).toBe('EAGAIN');
      expect(await rejectionCode(b.read(`${base}/flag`))).toBe('ENOENT');

      const readMissing = await a.transactionStart();
      expect(await rejectionCode(a.read(`${base}/later`, readMissing))).toBe('ENOENT');
      await a.write(`${base}/flag`, 'f', readMissing);
      await b.write(`${base}/later`, 'appeared');
      expect(await rejectionCode(a.transactionEnd(readMissing, true))).toBe('EAGAIN');
      expect(await rejectionCode(b.read(`${base}/flag`))).toBe('ENOENT');

      await a.write(`${base}/blind`, 'old');
      const blindWrite = await a.transactionStart();
      await a.write(`${base}/blind`, 'mine', blindWrite); // written without reading it first
      await b.write(`${base}/blind`, 'theirs');
      expect(await rejectionCode(a.transactionEnd(blindWrite, true))).toBe('EAGAIN');
      expect(await b.read(`${base}/blind`)).toBe('theirs');

      await a.write(`${base}/sub/deep/k`, 'v');
      const removing = await a.transactionStart();
      await a.rm(`${base}/sub`, removing);
      await b.write(`${base}/sub/deep/k`, 'changed'); // a node the transaction deletes changes outside it
      expect(await rejectionCode(a.transactionEnd(removing, true))).toBe('EAGAIN');
      expect(await b.read(`${base}/sub/deep/k`)).toBe('changed');
    });

    it('transaction writes are invisible outside until commit; an abort discards them', async () => {
      const a = await fresh();
      const b = await connect();
      await a.write(`${base}/k`, 'old');
      const tx = await a.transactionStart();
      await a.write(`${base}/k`, 'new', tx);
      await a.write(`${base}/created`, 'c', tx);
      expect(await a.read(`${base}/k`, tx)).toBe('new');
      expect(await b.read(`${base}/k`)).toBe('old');
      expect(await rejectionCode(b.read(`${base}/created`))).toBe('ENOENT');
      await a.transactionEnd(tx, false);
      expect(await b.read(`${base}/k`)).toBe('old');
      const tx2 = await a.transactionStart();
      await a.write(`${base}/k`, 'committed', tx2);
      await a.transactionEnd(tx2, true);
      expect(await b.read(`${base}/k`)).toBe('committed');
      expect(await rejectionCode(a.transactionEnd(tx2, true))).toBe('ENOENT');
    });
  });
}
