/**
 * `xl destroy` of the domU in the middle of two transfers: one where our side (a dom0 process,
 * vchan-pump-program) is the vchan server and libxenvchan's vchan-socket-proxy in the domU the
 * client, one the other way round. No process in the domU gets to say anything and no
 * unmap-notify runs there: both of our processes must see 'domain-gone' by themselves, release
 * everything (no /dev/xen mapping left: the client had the dead domain's pages mapped) and exit
 * 0, and Xen must then be able to finish off the domain (no dying domain left behind).
 *
 * It destroys the suite's only domU, so the rig runs it after every other file
 * (suite/rig-runner.mjs RUN_LAST).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { proxyPump } from '../peer/proxy-scripts.js';
import { isClosed, isConnected, isReleased, movedBoth, startPump, type Pump } from '../peer/pump-process.js';
import { sleep } from '../peer/wait-until.js';

const run = promisify(execFile);
const BEFORE_DESTROY = 256 * 1024;
const TIMEOUT_MS = 180_000;

describe.skipIf(!runningInXen)('xl destroy of the domU while dom0 processes move data with it', () => {
  let ends: CrossDomain;
  beforeAll(async () => {
    ends = await openCrossDomain();
  });
  afterAll(() => closeCrossDomain(ends));

  it('our server and our client both see domain-gone, release everything and exit 0; no dying domain is left', async () => {
    const { agent, peer } = ends;
    const pumps: Pump[] = [startPump('server', peer, 'destroy-srv', 64 * 1024), startPump('client', peer, 'destroy-cli')];
    try {
      await agent.call('startProcess', proxyPump({ mode: 'client', peer: 0, path: `/local/domain/0/data/vchan/${peer}/destroy-srv` }));
      await agent.call('startProcess', proxyPump({ mode: 'server', peer: 0, path: `/local/domain/${peer}/data/vchan/0/destroy-cli` }));
      for (const pump of pumps) await pump.waitFor(isConnected, TIMEOUT_MS);
      for (const pump of pumps) await pump.waitFor(movedBoth(BEFORE_DESTROY), TIMEOUT_MS);

      const t0 = performance.now();
      await run('xl', ['destroy', String(peer)]);
      const destroyedAfterMs = performance.now() - t0;
      for (const [i, pump] of pumps.entries()) {
        const closed = await pump.waitFor(isClosed, 60_000);
        const seenAfterMs = performance.now() - t0;
        expect(closed.reason).toBe('domain-gone');
        expect((await pump.waitFor(isReleased, 60_000)).xenMappings).toBe(0);
        expect(await pump.exited).toEqual({ code: 0, signal: null });
        console.log(`${i === 0 ? 'our server' : 'our client'}: domain-gone seen by ${seenAfterMs.toFixed(0)} ms (xl destroy returned after ${destroyedAfterMs.toFixed(0)} ms)`);
      }
      // With nothing of it mapped any more, Xen frees the domain: `xl list` shows dom0 only.
      const deadline = Date.now() + 60_000;
      let list = '';
      while ((list = (await run('xl', ['list'])).stdout.trim()).split('\n').length !== 2 && Date.now() < deadline) await sleep(250);
      expect(list.split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['Domain-0']);
    } finally {
      for (const pump of pumps) if (pump.child.exitCode === null && pump.child.signalCode === null) pump.child.kill('SIGKILL');
    }
  }, TIMEOUT_MS);
});
