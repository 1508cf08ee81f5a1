/**
 * A wait may spin (block the thread, re-checking the ring) before it sleeps. A spin can only pay
 * off if the peer has what it needs to answer: so by the time a receiver spins, the reply its
 * application wrote to the message just delivered must be visible to the peer, whether it was
 * written synchronously with trySend() or in a promise continuation / next tick.
 * The server's spin is replaced by a spy that records what the (raw) client end can read at that
 * moment, then reports "nothing came" so the endpoint arms and sleeps as usual.
 */
import { describe, expect, it } from 'vitest';
import { MessageChannel, VchanStream, type VchanEndpoint } from '@xenipc/channel';
import { endpointHandle } from '../src/endpoint-handle.js';
import { loopbackPair, nextTurn } from './loopback-pair.js';

/** The endpoint's (private) spin, as MessageChannel and VchanStream reach it. */
const spinOf = (ep: VchanEndpoint) => endpointHandle(ep).spin;

const REQUESTS = 5;

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, true);
  out.set(payload, 4);
  return out;
}

/**
 * The raw client sends REQUESTS framed requests one at a time and reads each reply. The server's
 * spin records, each time it starts, how many reply bytes the client could see or had read, and
 * how many reply bytes the server's application had produced by then.
 */
async function exchange(
  attach: (server: VchanEndpoint, produced: (bytes: number) => void) => void,
  request: Uint8Array,
): Promise<Array<{ visible: number; produced: number }>> {
  const pair = await loopbackPair({ spinMicros: 50 });
  const { server, client } = pair;
  const atSpin: Array<{ visible: number; produced: number }> = [];
  let produced = 0;
  let readByClient = 0;
  // Replace the endpoint's private spin: its own waits and its handle both go through it.
  (server as unknown as { spin: () => boolean }).spin = () => {
    atSpin.push({ visible: readByClient + client.dataReady, produced });
    return false;
  };
  attach(server, (bytes) => (produced += bytes));
  const into = new Uint8Array(request.length);
  for (let i = 0; i < REQUESTS; i++) {
    expect(client.write(request)).toBe(request.length);
    while (client.dataReady < request.length) await nextTurn();
    // Give the server's (possibly deferred) wait its turn before we answer.
    await nextTurn();
    await nextTurn();
    expect(client.read(into)).toBe(request.length);
    readByClient += request.length;
    expect(into).toEqual(request);
  }
  await client.close();
  await server.closed();
  pair.host.assertCleanedUp();
  return atSpin;
}

/** Spins happened, and at each one every reply produced so far was already visible to the peer. */
function expectRepliesVisible(atSpin: Array<{ visible: number; produced: number }>): void {
  expect(atSpin.length).toBeGreaterThanOrEqual(REQUESTS - 1);
  expect(atSpin.every((s) => s.produced > 0)).toBe(true);
  expect(atSpin.map((s) => s.visible)).toEqual(atSpin.map((s) => s.produced));
}

describe('spinning waits start only once our reply is visible to the peer', () => {
  const request = frame(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));

  it('MessageChannel: a reply written with trySend() during delivery is published before the spin', async () => {
    const atSpin = await exchange((server, produced) => {
      const rx: MessageChannel = new MessageChannel(server, {
        onMessage: (m) => {
          rx.trySend(m.slice());
          produced(4 + m.length);
        },
      });
    }, request);
    expectRepliesVisible(atSpin);
  });

  it('MessageChannel: a reply written in a promise continuation is published before the spin', async () => {
    const atSpin = await exchange((server, produced) => {
      const rx: MessageChannel = new MessageChannel(server, {
        onMessage: (m) => {
          const copy = m.slice();
          void Promise.resolve().then(() => {
            rx.trySend(copy);
            produced(4 + copy.length);
          });
        },
      });
    }, request);
    expectRepliesVisible(atSpin);
  });

  it('VchanStream: an echo written on the next tick is in the ring before the read side spins', async () => {
    const atSpin = await exchange((server, produced) => {
      const stream = new VchanStream(server);
      stream.on('data', (chunk: Buffer) =>
        process.nextTick(() => {
          stream.write(chunk);
          produced(chunk.length);
        }),
      );
      stream.on('error', () => undefined);
    }, request);
    expectRepliesVisible(atSpin);
  });
});

/** A never-ready check that counts how often the spin looked (0 = the wait did not spin). */
function counter(): { ready: () => boolean; looks: number } {
  const c = { looks: 0, ready: (): boolean => (c.looks++, false) };
  return c;
}

/**
 * Drive an endpoint through fruitless waits until the first spin after a run of waits that did
 * not spin at all: the re-probe. Returns the length of that run. No timing involved.
 */
function driveToProbe(ep: VchanEndpoint): number {
  let skipped = 0;
  for (let calls = 0; calls < 200; calls++) {
    const c = counter();
    expect(spinOf(ep)(c.ready)).toBe(false);
    if (c.looks > 0 && skipped >= 10) return skipped;
    skipped = c.looks === 0 ? skipped + 1 : 0;
  }
  throw new Error('no re-probe within 200 waits');
}

/** True if a spin catches an answer that comes `afterMs` after it starts (a peer woken by an event). */
function catchesLateAnswer(ep: VchanEndpoint, afterMs: number): boolean {
  const t0 = performance.now();
  return spinOf(ep)(() => performance.now() - t0 > afterMs);
}

describe('adaptive spin budget', () => {
  it('halves to none, then skips spinning; the re-probe has the full budget, and catching a late answer restores it', async () => {
    const pair = await loopbackPair({ spinMicros: 2000 });
    const ep = pair.server;
    expect(driveToProbe(ep)).toBe(15); // SPIN_REPROBE_EVERY = 16: every 16th wait probes
    for (let i = 0; i < 15; i++) {
      const c = counter();
      spinOf(ep)(c.ready);
      expect(c.looks).toBe(0);
    }
    // The next probe catches an answer 0.5 ms late (a short probe would not), and the budget is
    // full again afterwards.
    expect(catchesLateAnswer(ep, 0.5)).toBe(true);
    expect(catchesLateAnswer(ep, 0.5)).toBe(true);
    await Promise.all([pair.server.close(), pair.client.close()]);
    pair.host.assertCleanedUp();
  });

  it('the first wait after a publish of ours woke the sleeping peer spins up to 5x as long', async () => {
    const pair = await loopbackPair({ spinMicros: 400 });
    const { server, client } = pair;
    // The client sleeps on its read ring: it asked for an event when the server writes.
    endpointHandle(client).armReadable();
    expect(server.write(Uint8Array.of(1, 2, 3))).toBe(3);
    // Its answer is a wake-up away: 5 x 0.4 ms catches one 1.2 ms late, a plain spin would not.
    expect(catchesLateAnswer(server, 1.2)).toBe(true);
    // The client did not ask again, so this write wakes nobody and the wait spins as usual
    // (0.4 ms). The answer is 1.9 ms late, within the 2 ms a wake spin would wait, so only a
    // preemption of over 1.5 ms in the middle of the spin could make it seem caught (at 1.2 ms
    // a loaded test run saw that once).
    expect(server.write(Uint8Array.of(4))).toBe(1);
    expect(catchesLateAnswer(server, 1.9)).toBe(false);
    await Promise.all([pair.server.close(), pair.client.close()]);
    pair.host.assertCleanedUp();
  });

  it('a failed probe goes straight back to no budget (not half of it)', async () => {
    const pair = await loopbackPair({ spinMicros: 2000 });
    const ep = pair.server;
    driveToProbe(ep);
    const c = counter();
    spinOf(ep)(c.ready);
    expect(c.looks).toBe(0);
    await Promise.all([pair.server.close(), pair.client.close()]);
    pair.host.assertCleanedUp();
  });
});

describe('when a receiver that answers from a promise continuation spins', () => {
  it('right after the continuation sent (no event-loop turn), with a turn of the loop every 65th time', async () => {
    const pair = await loopbackPair({ spinMicros: 50 });
    const { server, client } = pair;
    // Event-loop turns, counted by a setImmediate chain.
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const request = frame(Uint8Array.of(7));
    const into = new Uint8Array(request.length);
    // The server's spin stands in for a peer in another process that answers while we spin: it
    // takes the server's reply and writes the next request, so no turn of the loop is needed.
    const spinTurns: number[] = [];
    (server as unknown as { spin: () => boolean }).spin = () => {
      if (client.dataReady < request.length || spinTurns.length === 130) return false;
      spinTurns.push(turn);
      expect(client.read(into)).toBe(request.length);
      expect(client.write(request)).toBe(request.length);
      return true;
    };
    const rx: MessageChannel = new MessageChannel(server, {
      onMessage: (m) => {
        const copy = m.slice();
        void Promise.resolve().then(() => rx.trySend(copy));
      },
    });
    expect(client.write(request)).toBe(request.length);
    while (spinTurns.length < 130) await nextTurn();
    ticking = false;
    // Spins per turn of the loop: the first 64 were started by the sends, in one turn; then the
    // loop turns. A later turn may hold two more (its setImmediate's spin, and one of a pump
    // woken by the client's event), never more.
    const perTurn = [...new Set(spinTurns)].map((t) => spinTurns.filter((u) => u === t).length);
    expect(perTurn[0]).toBe(64);
    expect(perTurn.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(66);
    await client.close();
    await server.closed();
    pair.host.assertCleanedUp();
  });
});
