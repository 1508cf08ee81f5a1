/**
 * Domain death seen from a domU (issue 17). The survivor is the suite's domU (its peer agent runs
 * our vchan server and our vchan client there); the domain that dies is a second domU this file
 * creates (`XENIPC_DOMU=xenipc-peer2 xenipc-domu start`: same kernel and ramdisk, so it runs a
 * peer agent too, and libxenvchan's vchan-socket-proxy as the other end of both channels) and
 * ends with `xl destroy`.
 *
 * A domU hears no @releaseDomain and gets EACCES for another domain's xenstore home whether it
 * exists or not; Linux's evtchn device cannot read a port's status. What it can ask is Xen itself
 * (packages/channel/src/domain-death-watch.ts): binding port 0 of a domain answers ESRCH once
 * there is no such domain (XenBackend.probeDomain, what our server uses), but Xen keeps a
 * destroyed domain (dying) while another domain maps its pages; a grant copy from a page of a
 * dying domain fails at once (ForeignMapping.probeOwner, what our client uses: it maps its
 * server's pages). The test runs both in the survivor and also holds a page of the victim mapped
 * outside any channel, so the server's answer must wait until that page is unmapped.
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

  it('our vchan client in the domU sees domain-gone at once (a grant copy from the dead server\'s page fails); our vchan server only once Xen lets the dead client domain go, i.e. not while the survivor maps a page of it; both release everything and exit 0', async () => {
    const { agent: survivor, peer: survivorId } = ends;
    const dying = victim!;
    const ours = async (role: 'server' | 'client', port: string) => (await survivor.call('startProcess', tsProgram('test/xen/peer/vchan-pump-program.ts', [role, String(victimId), port, ...(role === 'server' ? [String(64 * 1024)] : [])]))).handle;
    const output = async (handle: number, text: string, timeoutMs: number) => (await survivor.call('awaitProcessOutput', { handle, text, timeoutMs }, timeoutMs + 10_000)).stdout;
    const server = await ours('server', 'pd-srv');
    await dying.call('startProcess', proxyPump({ mode: 'client', peer: survivorId, path: `/local/domain/${survivorId}/data/vchan/${victimId}/pd-srv` }));
    await dying.call('startProcess', proxyPump({ mode: 'server', peer: survivorId, path: `/local/domain/${victimId}/data/vchan/${survivorId}/pd-cli` }));
    const client = await ours('client', 'pd-cli');
    for (const pump of [server, client]) await output(pump, '"event":"moved"', 120_000);
    expect((await survivor.call('probeDomain', { domid: victimId })).presence).toBe('present');

    // The survivor also maps a page the victim shares, outside any channel: as long as it does,
    // Xen cannot free the destroyed victim.
    const { refs } = await dying.call('share', { peer: survivorId, pages: 1 });
    const mapping = await survivor.call('map', { peer: victimId, refs });

    const destroyedAt = performance.now();
    await run('xl', ['destroy', String(victimId)]);
    dying.close();
    victim = undefined;
    const clientEnd = await output(client, '"event":"closed"', 60_000);
    const clientSeenMs = performance.now() - destroyedAt;
    expect(clientEnd).toContain('"reason":"domain-gone"');
    const clientResult = await survivor.call('processResult', { handle: client, timeoutMs: 60_000 }, 70_000);
    expect(clientResult.code).toBe(0);
    expect(clientResult.stdout).toContain('"xenMappings":0');

    // Our client let go of the victim's pages; the survivor's other mapping still holds it.
    await sleep(ZOMBIE_WATCH_MS);
    expect((await survivor.call('probeDomain', { domid: victimId })).presence).toBe('present');
    expect(await output(server, '"event":"connected"', 1000)).not.toContain('"event":"closed"');

    const unmappedAt = performance.now();
    await survivor.call('close', { handle: mapping.handle });
    const serverEnd = await output(server, '"event":"closed"', 60_000);
    const serverSeenMs = performance.now() - unmappedAt;
    expect(serverEnd).toContain('"reason":"domain-gone"');
    expect((await survivor.call('probeDomain', { domid: victimId })).presence).toBe('absent');
    const serverResult = await survivor.call('processResult', { handle: server, timeoutMs: 60_000 }, 70_000);
    expect(serverResult.code).toBe(0);
    expect(serverResult.stdout).toContain('"xenMappings":0');
    console.log(`domU client: domain-gone ${clientSeenMs.toFixed(0)} ms after xl destroy began; domU server: ${serverSeenMs.toFixed(0)} ms after the survivor unmapped the destroyed domain's last page`);
  }, TIMEOUT_MS);
});
