/**
 * Interop with Xen's own libxenvchan, on real Xen: @xenipc/channel in dom0 against
 * `vchan-socket-proxy` (xen-utils, linked with libxenvchan) in the domU, with our side as the
 * vchan server and as the vchan client. The proxy relays its stdin/stdout ("-") over the vchan.
 */
import { VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';

const PROXY = 'vchan-socket-proxy';
const TIMEOUT_MS = 60_000;

async function readText(endpoint: VchanEndpoint, length: number): Promise<string> {
  const into = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    await endpoint.waitReadable(1);
    got += endpoint.read(into.subarray(got));
  }
  return Buffer.from(into).toString();
}

describe.skipIf(!runningInXen)('vchan interop with libxenvchan (vchan-socket-proxy in the domU)', () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  it('our VchanServer in dom0, vchan-socket-proxy -m client in the domU: a line each way', async () => {
    const { agent, backend, peer } = ends;
    const server = await VchanServer.listen(backend, { peer, port: 'proxy-client', waitForClient: false });
    const proxy = await agent.call('startProcess', {
      command: PROXY, args: ['-m', 'client', '0', server.path, '-'], stdin: 'hello from libxenvchan\n', stdinOpenMs: TIMEOUT_MS,
    });
    try {
      const line = 'hello from libxenvchan\n';
      expect(await readText(server, line.length)).toBe(line);
      expect(server.write(Buffer.from('hello from xenipc\n'))).toBe(18);
      await agent.call('awaitProcessOutput', { handle: proxy.handle, text: 'hello from xenipc', timeoutMs: TIMEOUT_MS });
    } finally {
      await server.close();
      const result = await agent.call('processResult', { handle: proxy.handle, timeoutMs: 10_000 });
      expect(result.stderr).not.toMatch(/abort|segmentation/i);
    }
  });

  it('our VchanClient in dom0, vchan-socket-proxy -m server in the domU: a line each way', async () => {
    const { agent, backend, peer } = ends;
    const path = `/local/domain/${peer}/data/vchan/0/proxy-server`;
    const proxy = await agent.call('startProcess', {
      command: PROXY, args: ['-m', 'server', '0', path, '-'], stdin: 'hello from libxenvchan\n', stdinOpenMs: TIMEOUT_MS,
    });
    const client = await VchanClient.connect(backend, { peer, port: 'proxy-server', timeoutMs: TIMEOUT_MS });
    try {
      const line = 'hello from libxenvchan\n';
      expect(await readText(client, line.length)).toBe(line);
      expect(client.write(Buffer.from('hello from xenipc\n'))).toBe(18);
      await agent.call('awaitProcessOutput', { handle: proxy.handle, text: 'hello from xenipc', timeoutMs: TIMEOUT_MS });
    } finally {
      await client.close();
      await agent.call('processResult', { handle: proxy.handle, timeoutMs: 10_000 });
    }
  });
});
