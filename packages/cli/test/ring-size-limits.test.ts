/** `--ring-size` accepts exactly what the library does: every power of two it can open, nothing beyond. */
import { describe, expect, it } from 'vitest';
import { createLoopbackHost } from '@xenipc/sim';
import { controlPage, VchanClient, VchanServer } from '@xenipc/channel';
import { checkRingSize, RING_SIZE_LIMITS } from '../src/channel-endpoints.js';
import { UsageError } from '../src/usage-error.js';

describe('--ring-size limits', () => {
  it('are the library limits: 1 KiB to 1 MiB', () => {
    expect(RING_SIZE_LIMITS).toEqual({ min: 1024, max: 1024 * 1024 });
    expect(() => controlPage.planRings(RING_SIZE_LIMITS.max + 1, 1024)).toThrow(RangeError);
  });

  it('accept the limits themselves and reject one step beyond, or a size that is not a power of two', () => {
    expect(checkRingSize(RING_SIZE_LIMITS.min)).toBe(RING_SIZE_LIMITS.min);
    expect(checkRingSize(RING_SIZE_LIMITS.max)).toBe(RING_SIZE_LIMITS.max);
    for (const bad of [RING_SIZE_LIMITS.min / 2, RING_SIZE_LIMITS.max * 2, 3000]) expect(() => checkRingSize(bad)).toThrow(UsageError);
  });

  it.each([RING_SIZE_LIMITS.min, RING_SIZE_LIMITS.max])('a channel asking for %i-byte rings opens, with rings at least that big', async (size) => {
    const host = createLoopbackHost();
    const [server, client] = await Promise.all([
      VchanServer.listen(host.domain(1), { peer: 2, port: 'limits', readSize: size, writeSize: size }),
      VchanClient.connect(host.domain(2), { peer: 1, port: 'limits' }),
    ]);
    // (Two small rings share the control page as in libxenvchan: one of them is placed at 2 KiB.)
    for (const ring of [server.readRingSize, server.writeRingSize, client.readRingSize, client.writeRingSize]) {
      expect(ring).toBeGreaterThanOrEqual(size);
      expect(ring).toBeLessThanOrEqual(Math.max(size, 2048));
    }
    await Promise.all([client.close(), server.close()]);
  });
});
