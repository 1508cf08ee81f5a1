/**
 * Domain death seen from a domU (issue 17). The survivor is the suite's domU (its peer agent runs
 * our vchan server there); the domain that dies is a second domU this file creates
 * (`XENIPC_DOMU=xenipc-peer2 xenipc-domu start`: same kernel and ramdisk, so it runs a peer agent
 * too, and libxenvchan's vchan-socket-proxy as our client) and ends with `xl destroy`.
 *
 * A domU hears no @releaseDomain and gets EACCES for another domain's xenstore home whether it
 * exists or not; Linux's evtchn device cannot read a port's status. What it can ask is Xen itself:
 * binding port 0 of a domain answers ESRCH once there is no such domain (XenBackend.probeDomain).
 * But Xen keeps a destroyed domain (dying) while another domain maps its pages, so the test
 * checks that too: the survivor first maps a page of the victim, and only once it unmaps it does
 * the victim vanish and our server see `domain-gone`. (That is why a vchan client, which maps its
 * server's pages, cannot learn this way that its server's domain died; see
 * packages/channel/src/domain-death-watch.ts.)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerAgent } from '../peer/agent-client.js';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { proxyPump } from '../peer/proxy-scripts.js';
import { tsProgram } from '../peer/stack-commands.js';
import { sleep } from '../peer/wait-until.js';

const run = promisify(execFile);
const VICTIM = { ...process.env, XENIPC_DOMU: 'xenipc-peer2', XENIPC_DOMU_MEM: '512' };
const TIMEOUT_MS = 240_000;
/** Longer than a few of domain-death-watch's 1 s poll periods: long enough to have noticed. */
const ZOMBIE_WATCH_MS = 4000;

async function victimDomain(command: 'start' | 'id' | 'stop'): Promise<string> {
  return (await run('xenipc-domu', command === 'id' ? ['id', '300'] : [command], { env: VICTIM })).stdout.trim();
}

describe.skipIf(!runningInXen)('a domU sees its peer domain (another domU) destroyed', () => {
  let ends: CrossDomain;
  let victim: PeerAgent | undefined;
  let victimId: number;
  beforeAll(async () => {
    ends = await openCrossDomain();
    await victimDomain('start');
    victimId = Number(await victimDomain('id'));
    victim = await PeerAgent.connect(victimId);
  }, TIMEOUT_MS);
  afterAll(async () => {
    victim?.close();
    await victimDomain('stop').catch(() => undefined);
    await closeCrossDomain(ends);
  });

  it('our vchan server in the domU: domain-gone once Xen lets the destroyed client domain go (not while the survivor maps a page of it); then it releases everything and exits 0', async () => {
    const { agent: survivor, peer: survivorId } = ends;
    const dying = victim!;
    const port = 'peer-death';
    const server = await survivor.call('startProcess', tsProgram('test/xen/peer/vchan-pump-program.ts', ['server', String(victimId), port, String(64 * 1024)]));
    await dying.call('startProcess', proxyPump({ mode: 'client', peer: survivorId, path: `/local/domain/${survivorId}/data/vchan/${victimId}/${port}` }));
    await survivor.call('awaitProcessOutput', { handle: server.handle, text: '"event":"moved"', timeoutMs: 120_000 }, 130_000);
    expect((await survivor.call('probeDomain', { domid: victimId })).presence).toBe('present');

    // The survivor maps a page the victim shares: Xen cannot free the victim while it is mapped.
    const { refs } = await dying.call('share', { peer: survivorId, pages: 1 });
    const mapping = await survivor.call('map', { peer: victimId, refs });

    await run('xl', ['destroy', String(victimId)]);
    dying.close();
    victim = undefined;
    await sleep(ZOMBIE_WATCH_MS);
    expect((await survivor.call('probeDomain', { domid: victimId })).presence).toBe('present');
    const whileZombie = await survivor.call('awaitProcessOutput', { handle: server.handle, text: '"event":"connected"', timeoutMs: 1000 });
    expect(whileZombie.stdout).not.toContain('"event":"closed"');

    const unmappedAt = performance.now();
    await survivor.call('close', { handle: mapping.handle });
    const closed = await survivor.call('awaitProcessOutput', { handle: server.handle, text: '"event":"closed"', timeoutMs: 60_000 }, 70_000);
    const seenAfterMs = performance.now() - unmappedAt;
    expect(closed.stdout).toContain('"reason":"domain-gone"');
    expect((await survivor.call('probeDomain', { domid: victimId })).presence).toBe('absent');
    const result = await survivor.call('processResult', { handle: server.handle, timeoutMs: 60_000 }, 70_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"xenMappings":0');
    console.log(`domU server: domain-gone seen ${seenAfterMs.toFixed(0)} ms after the survivor unmapped the destroyed domain's page`);
  }, TIMEOUT_MS);
});
