/**
 * libxenvchan's 64-byte key buffer (issue 16): a path whose "<path>/event-channel" does not fit
 * 64 bytes with its NUL (more than 49 characters) is refused before anything is allocated,
 * unless the caller says the peer is not libxenvchan. At the limit, both sides connect.
 */
import { describe, expect, it } from 'vitest';
import { createLoopbackHost } from '@xenipc/sim';
import { VchanClient, VchanServer } from '@xenipc/channel';
import { LIBXENVCHAN_MAX_PATH_LENGTH } from '../src/rendezvous.js';

/** A path under domain 1's data directory, exactly `length` characters long. */
function pathOf(length: number): string {
  const prefix = '/local/domain/1/data/vchan/2/';
  return prefix + 'p'.repeat(length - prefix.length);
}

describe('vchan paths and libxenvchan\'s 64-byte buffer', () => {
  it('the limit is 49 characters: "<49 chars>/event-channel" + NUL is exactly 64 bytes', () => {
    expect(LIBXENVCHAN_MAX_PATH_LENGTH).toBe(49);
    expect(Buffer.byteLength(`${pathOf(49)}/event-channel`) + 1).toBe(64);
  });

  it('a path at the limit connects', async () => {
    const host = createLoopbackHost();
    const path = pathOf(49);
    const [server, client] = await Promise.all([
      VchanServer.listen(host.domain(1), { peer: 2, port: 'unused', path }),
      VchanClient.connect(host.domain(2), { peer: 1, port: 'unused', path }),
    ]);
    expect(server.isOpen && client.isOpen).toBe(true);
    await Promise.all([server.close(), client.close()]);
  });

  it('one past the limit is a RangeError (code ERR_VCHAN_PATH_TOO_LONG) on both sides, with nothing allocated', async () => {
    const host = createLoopbackHost();
    const path = pathOf(50);
    for (const attempt of [
      () => VchanServer.listen(host.domain(1), { peer: 2, port: 'unused', path, waitForClient: false }),
      () => VchanClient.connect(host.domain(2), { peer: 1, port: 'unused', path, timeoutMs: 1000 }),
    ]) {
      const err = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RangeError);
      expect(err).toMatchObject({ code: 'ERR_VCHAN_PATH_TOO_LONG' });
      expect((err as Error).message).toContain('is 50 characters');
      expect((err as Error).message).toContain('libxenvchanPeer: false');
    }
    expect(host.ledger()).toMatchObject({ grants: 0, ports: 0 });
  });

  it('libxenvchanPeer: false lifts the limit (xenipc to xenipc)', async () => {
    const host = createLoopbackHost();
    const path = pathOf(90);
    const [server, client] = await Promise.all([
      VchanServer.listen(host.domain(1), { peer: 2, port: 'unused', path, libxenvchanPeer: false }),
      VchanClient.connect(host.domain(2), { peer: 1, port: 'unused', path, libxenvchanPeer: false }),
    ]);
    expect(server.isOpen && client.isOpen).toBe(true);
    await Promise.all([server.close(), client.close()]);
  });
});
