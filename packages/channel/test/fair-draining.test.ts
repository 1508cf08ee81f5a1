/**
 * Fair draining (issue 17.1): a peer that keeps our read ring full of empty frames, moving only
 * its index, must not hold our event loop for more than a few milliseconds per turn, whatever
 * the receive mode. The flooder is another process on the simulated host; the event-loop delay
 * is measured here while the flood runs (worst sample per window, see flood-harness.ts) and must
 * stay under 50 ms on the default 64 KiB ring and on the largest (1 MiB) ring.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageChannel, VchanStream, type VchanEndpoint } from '@xenipc/channel';
import { measureFlood, startFloodHost, type FloodHost } from './flood-harness.js';

const MAX_LAG_MS = 50;
const RINGS = [64 * 1024, 1024 * 1024];

type Receiver = (endpoint: VchanEndpoint) => { count(): number; stop(): Promise<void> };

const MODES: Record<string, Receiver> = {
  onMessage(endpoint) {
    let n = 0;
    const mc = new MessageChannel(endpoint, { onMessage: () => n++ });
    return { count: () => n, stop: () => mc.close() };
  },
  "'message' events"(endpoint) {
    let n = 0;
    const mc = new MessageChannel(endpoint);
    mc.on('message', () => n++);
    return { count: () => n, stop: () => mc.close() };
  },
  'async iterator'(endpoint) {
    let n = 0;
    const mc = new MessageChannel(endpoint);
    const loop = (async () => {
      for await (const _ of mc) n++;
    })().catch(() => undefined);
    return {
      count: () => n,
      stop: async () => {
        await mc.close();
        await loop;
      },
    };
  },
  onFrame(endpoint) {
    let n = 0;
    const mc = new MessageChannel(endpoint, { onFrame: () => n++ });
    return { count: () => n, stop: () => mc.close() };
  },
  VchanStream(endpoint) {
    let bytes = 0;
    const stream = new VchanStream(endpoint);
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.on('error', () => undefined);
    // Counted in empty frames (4 bytes each), like the message receivers.
    return { count: () => bytes / 4, stop: async () => void stream.destroy() };
  },
};

let host: FloodHost;

beforeAll(async () => {
  host = await startFloodHost();
}, 60_000);

afterAll(async () => {
  await host?.close();
});

describe('a peer flooding the ring with empty frames cannot starve the event loop', () => {
  for (const ring of RINGS) {
    for (const [mode, receive] of Object.entries(MODES)) {
      it(`${mode}, ${ring / 1024} KiB ring: max event-loop lag < ${MAX_LAG_MS} ms`, { timeout: 60_000 }, async () => {
        const result = await measureFlood(host, ring, receive);
        const lags = result.windowLagMs.map((ms) => ms.toFixed(1)).join(' / ');
        console.log(`flood ${mode} ${ring / 1024} KiB: max lag per window ${lags} ms, ${result.received} frames, ${result.refills} refills`);
        expect(result.ringSize).toBe(ring);
        // The flood was real: several rings' worth taken, refilled again and again.
        expect(result.received).toBeGreaterThanOrEqual(6 * (ring / 4));
        expect(result.refills).toBeGreaterThan(6);
        expect(Math.min(...result.windowLagMs)).toBeLessThan(MAX_LAG_MS);
      });
    }
  }
});
