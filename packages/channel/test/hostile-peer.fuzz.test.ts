/**
 * A hostile peer scribbles over the shared control page and ring bytes at random while traffic
 * flows. The victim may stall or close, but must never throw anything but ChannelClosedError,
 * never report more than a ring's worth of data or space, never allocate beyond
 * maxMessageSize, and never hang. Mutation count: XENIPC_FUZZ_MUTATIONS (default 200000;
 * the CI size is 1000000).
 */
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, MessageChannel, type VchanEndpoint } from '@xenipc/channel';
import { loopbackPair, nextTurn, type Pair } from './loopback-pair.js';

const MUTATIONS = Number(process.env['XENIPC_FUZZ_MUTATIONS'] ?? 200_000);
const MAX_MESSAGE = 10_000;

interface Internals {
  parts: { control: { buffer: ArrayBuffer }; ringPages: Array<{ buffer: ArrayBuffer }> };
}

/** Deterministic PRNG so a failure can be replayed (seed printed in the test name). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function isExpected(err: unknown): boolean {
  return err instanceof ChannelClosedError;
}

for (const victimRole of ['server', 'client'] as const) {
  describe(`hostile peer vs ${victimRole}`, () => {
    const seed = victimRole === 'server' ? 0x5eed1 : 0x5eed2;
    it(`survives ${MUTATIONS} random mutations of the shared pages (seed ${seed})`, { timeout: 600_000 }, async () => {
      const next = rng(seed);
      let done = 0;
      let restarts = 0;
      let delivered = 0;
      while (done < MUTATIONS) {
        const sizes = [1024, 2048, 4096, 65536];
        const pair: Pair = await loopbackPair({ readSize: sizes[next() % 4] as number, writeSize: sizes[next() % 4] as number });
        const victim: VchanEndpoint = victimRole === 'server' ? pair.server : pair.client;
        const honest: VchanEndpoint = victimRole === 'server' ? pair.client : pair.server;
        // The hostile writes go through the server's grant (writable; a client may map pages
        // read-only). That view detaches when the server closes, which ends this round.
        const internals = pair.server as unknown as Internals;
        const pages = [new Uint8Array(internals.parts.control.buffer), ...internals.parts.ringPages.map((p) => new Uint8Array(p.buffer))];
        const control = pages[0] as Uint8Array;
        // Half the pairs receive with onMessage (a copy per message), half with onFrame (bulk copy
        // into a private buffer, frames cut there): both must respect maxMessageSize.
        const frameBufferBound = 2 * Math.max(4096, victim.readRingSize, MAX_MESSAGE + 4);
        const rx = next() % 2 === 0
          ? new MessageChannel(victim, { maxMessageSize: MAX_MESSAGE, onMessage: (m) => {
            expect(m.length).toBeLessThanOrEqual(MAX_MESSAGE);
            delivered++;
          } })
          : new MessageChannel(victim, { maxMessageSize: MAX_MESSAGE, onFrame: (bytes, start, end) => {
            expect(end - start).toBeLessThanOrEqual(MAX_MESSAGE);
            expect(start).toBeGreaterThanOrEqual(4);
            expect(end).toBeLessThanOrEqual(bytes.length);
            expect(bytes.length).toBeLessThanOrEqual(frameBufferBound);
            delivered++;
          } });
        const tx = new MessageChannel(honest, { maxMessageSize: MAX_MESSAGE, onMessage: () => undefined });
        const buf = new Uint8Array(3000);
        const payload = new Uint8Array(300);
        const sends: Promise<void>[] = [];
        // Mutate until the victim ends (e.g. a live byte was cleared) or the budget is spent.
        for (let i = 0; i < 20_000 && done < MUTATIONS && victim.closeReason === undefined && control.byteLength > 0; i++, done++) {
          const r = next();
          switch (r % 32) {
            case 0: // an index: any u32
            case 1:
              new DataView(control.buffer).setUint32(4 * (next() % 4), next(), true);
              break;
            case 2: // an index: near the right value (off by a little, the sneaky kind)
              new DataView(control.buffer).setUint32(4 * (next() % 4), new DataView(control.buffer).getUint32(4 * (next() % 4), true) + (next() % 9) - 4, true);
              break;
            case 3: // orders, notify and (rarely) live bytes
              if (r % 64 === 3) control[20 + (next() % 2)] = next() % 3;
              else control[16 + (next() % 8 === 4 ? 5 : next() % 8)] = next() & 0xff;
              break;
            case 4: // the grant list
              control[24 + (next() % 64)] = next() & 0xff;
              break;
            default: { // ring bytes (frame headers and payload)
              const page = pages[next() % pages.length] as Uint8Array;
              page[next() % page.length] = next() & 0xff;
            }
          }
          try {
            // The victim at work: raw reads/writes, framed traffic, and its drain on a wake-up.
            expect(victim.dataReady).toBeLessThanOrEqual(victim.readRingSize);
            expect(victim.bufferSpace).toBeLessThanOrEqual(victim.writeRingSize);
            if (r % 16 === 5) expect(victim.read(buf)).toBeLessThanOrEqual(buf.length);
            if (r % 16 === 6) expect(victim.write(payload)).toBeLessThanOrEqual(payload.length);
            if (r % 4 === 0) rx.trySend(payload);
            if (r % 5 === 0 && honest.closeReason === undefined) tx.trySend(payload);
            if (r % 97 === 0) sends.push(rx.send(new Uint8Array(next() % 9000)).catch((e: unknown) => {
              if (!isExpected(e)) throw e;
            }));
            victim.emit('wake');
          } catch (err) {
            if (!isExpected(err)) throw err;
          }
          if (i % 500 === 499) await nextTurn();
        }
        await rx.close();
        await tx.close();
        await Promise.all(sends);
        pair.host.assertCleanedUp();
        restarts++;
      }
      if (process.env["XENIPC_FUZZ_VERBOSE"]) console.log({ victimRole, done, restarts, delivered });
      expect(done).toBe(MUTATIONS);
      // Sanity: the fuzz did exercise delivery and restarts, it was not a no-op.
      expect(delivered + restarts).toBeGreaterThan(0);
    });
  });
}
