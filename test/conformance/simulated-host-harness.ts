/**
 * The simulated host as a conformance harness: the host runs in the test process; ordinary
 * domains join from the test process too, killable ones are child processes (one OS process per
 * domain, as on Xen). A simulated domain ends when its process dies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { getSimLedger, joinSimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { LocalDomain, type DomainHandle } from '../support/domain-driver.js';
import { DomainProcess } from '../support/domain-process.js';
import type { BackendHarness, HostCapabilities, KillableDomain } from './backend-harness.js';

/** Small, so that the limit test shares few pages. */
const GRANT_LIMIT = 64;

export const SIMULATED_HOST_CAPABILITIES: HostCapabilities = {
  distinctDomains: true,
  knowsPortStatus: true,
  grantLimit: GRANT_LIMIT,
  endsDomains: true,
};

export async function simulatedHostHarness(): Promise<BackendHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'xenipc-conformance-'));
  const host = await startSimulatedHost({ dir, grantLimit: GRANT_LIMIT });
  const opened: DomainHandle[] = [];
  const local = async (domid?: number): Promise<DomainHandle> => {
    const domain = new LocalDomain(await joinSimulatedHost({ dir, autoStart: false, ...(domid === undefined ? {} : { domid }) }));
    opened.push(domain);
    return domain;
  };
  return {
    domain: () => local(),
    controlDomain: () => local(0),
    async killableDomain(): Promise<KillableDomain> {
      const domain = new DomainProcess({ kind: 'sim', dir });
      opened.push(domain);
      await domain.join();
      return domain;
    },
    endDomain: (domain) => domain.kill(),
    async afterEach() {
      await Promise.all(opened.splice(0).map((domain) => domain.close()));
      await expect.poll(async () => (await getSimLedger(dir)).domains, { timeout: 5000 }).toEqual([]);
    },
    async close() {
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
