import { describe, expect, it } from 'vitest';
import { createLoopbackHost } from '@xenipc/sim';
import { ChannelClosedError, MessageChannel, VchanClient, VchanServer, type VchanServer as Server } from '@xenipc/channel';

describe('VchanServer.serve', () => {
  it('accepts one client after another on the same path, each on a fresh channel', async () => {
    const host = createLoopbackHost();
    const serverBackend = host.domain(1);
    const loop = VchanServer.serve(serverBackend, { peer: 2, port: 'svc', readSize: 1024, writeSize: 1024 });
    const seen: string[] = [];
    const refs: number[] = [];
    const ends: string[] = [];
    const serving = (async () => {
      for await (const server of loop as AsyncIterable<Server>) {
        refs.push(server.ringRef);
        const mc = new MessageChannel(server);
        try {
          for await (const m of mc) {
            seen.push(Buffer.from(m).toString());
            await mc.send(m); // echo
          }
        } catch (err) {
          ends.push((err as ChannelClosedError).reason);
          continue;
        }
        ends.push(mc.closeReason ?? 'none');
      }
    })();
    for (const [i, how] of (['close', 'crash', 'close'] as const).entries()) {
      const clientBackend = host.domain(2);
      const client = await VchanClient.connect(clientBackend, { peer: 1, port: 'svc' });
      const mc = new MessageChannel(client);
      await mc.send(Buffer.from(`hello ${i}`));
      const echo = await mc[Symbol.asyncIterator]().next();
      expect(Buffer.from(echo.value as Uint8Array).toString()).toBe(`hello ${i}`);
      if (how === 'close') await mc.close();
      else host.crash(2);
      await clientBackend.close();
    }
    await expect.poll(() => ends.length).toBe(3);
    await loop.close();
    await serving;
    expect(seen).toEqual(['hello 0', 'hello 1', 'hello 2']);
    expect(new Set(refs).size).toBe(3);
    expect(ends).toEqual(['peer-closed', 'peer-crashed', 'peer-closed']);
    host.assertCleanedUp();
  });
});
