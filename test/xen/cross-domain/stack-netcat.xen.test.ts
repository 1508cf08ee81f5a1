/**
 * `xenipc listen` / `xenipc connect` (packages/cli) across real domains: a file of random bytes
 * sent dom0 -> domU and domU -> dom0, compared by SHA-256 (each side hashes its own copy; the
 * bytes never leave the channel otherwise). Size: XENIPC_XEN_NETCAT_BYTES (default 4 MiB).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../peer/agent-process.js';
import { closeCrossDomain, openCrossDomain, runningInXen, type CrossDomain } from '../peer/cross-domain.js';
import { shell, XENIPC_SHELL } from '../peer/stack-commands.js';

const BYTES = Number(process.env.XENIPC_XEN_NETCAT_BYTES ?? 4 * 1024 * 1024);
const RUN_TIMEOUT_MS = 180_000;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
/** The hash at the start of `sha256sum`'s output line. */
const printedHash = (stdout: string): string | undefined => /^([0-9a-f]{64})\s/m.exec(stdout)?.[1];

describe.skipIf(!runningInXen)(`xenipc listen/connect across dom0 and the domU: ${BYTES} bytes byte-exact (real Xen)`, () => {
  let ends: CrossDomain;
  let dir: string;
  beforeAll(async () => {
    ends = await openCrossDomain();
    dir = await mkdtemp(join(tmpdir(), 'xenipc-netcat-'));
  });
  afterAll(async () => {
    await closeCrossDomain(ends);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('dom0 connects and sends a file, the domU listens and receives it', { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const { agent, peer } = ends;
    const file = join(dir, 'to-domu.bin');
    const sent = randomBytes(BYTES);
    await writeFile(file, sent);
    const domuFile = '/tmp/xenipc-nc-to-domu.bin';
    const listener = await agent.call('startProcess', shell(
      `${XENIPC_SHELL} listen 0 nc-to-domu -d --backend xen > ${domuFile} && sha256sum ${domuFile}; rc=$?; rm -f ${domuFile}; exit $rc`,
    ));
    const line = shell(`${XENIPC_SHELL} connect ${peer} nc-to-domu --backend xen --timeout ${RUN_TIMEOUT_MS} < ${file}`);
    const sender = await new AgentProcess(line.command, line.args, undefined, 0).result(RUN_TIMEOUT_MS);
    const received = await agent.call('processResult', { handle: listener.handle, timeoutMs: 60_000 }, 90_000);
    expect(sender, `connect in dom0: ${sender.stderr}`).toMatchObject({ code: 0, signal: null });
    expect(received, `listen in the domU: ${received.stderr}`).toMatchObject({ code: 0, signal: null });
    expect(printedHash(received.stdout), received.stdout).toBe(sha256(sent));
  });

  it('the domU connects and sends a file, dom0 listens and receives it', { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const { agent, peer } = ends;
    const file = join(dir, 'from-domu.bin');
    const line = shell(`${XENIPC_SHELL} listen ${peer} nc-to-dom0 -d --backend xen > ${file}`);
    const listener = new AgentProcess(line.command, line.args, undefined, 0);
    const domuFile = '/tmp/xenipc-nc-to-dom0.bin';
    const sender = await agent.call('startProcess', shell(
      `head -c ${BYTES} /dev/urandom > ${domuFile} && sha256sum ${domuFile} && ` +
      `${XENIPC_SHELL} connect 0 nc-to-dom0 --backend xen --timeout ${RUN_TIMEOUT_MS} < ${domuFile}; rc=$?; rm -f ${domuFile}; exit $rc`,
    ));
    const sent = await agent.call('processResult', { handle: sender.handle, timeoutMs: RUN_TIMEOUT_MS }, RUN_TIMEOUT_MS + 30_000);
    const received = await listener.result(60_000);
    expect(sent, `connect in the domU: ${sent.stderr}`).toMatchObject({ code: 0, signal: null });
    expect(received, `listen in dom0: ${received.stderr}`).toMatchObject({ code: 0, signal: null });
    const bytes = await readFile(file);
    expect(bytes.length).toBe(BYTES);
    expect(sha256(bytes)).toBe(printedHash(sent.stdout));
  });
});
