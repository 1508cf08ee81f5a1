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
import { loopbackPair, nextTurn } from './loopback-pair.js';

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
  server.spin = () => {
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
